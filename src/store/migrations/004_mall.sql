-- The points mall: records the mall keeps beside the ledger (redemption orders, coupons), each a
-- JSON document written in the savepoint of the ledger command it belongs to (store/preparer.h).

CREATE TABLE records (
  seq           INTEGER PRIMARY KEY,  -- ascending in order of first write; lists go newest first
  kind          TEXT    NOT NULL,     -- redemption | coupon
  id            TEXT    NOT NULL,
  member_id     INTEGER NOT NULL,     -- 0: nobody's (a coupon pool's code not handed out yet)
  state         TEXT    NOT NULL,
  created_at_us INTEGER NOT NULL,
  updated_at_us INTEGER NOT NULL,
  body          TEXT    NOT NULL,     -- JSON, defined by src/mall
  UNIQUE (kind, id)
);
CREATE INDEX records_member ON records (kind, member_id, seq);
CREATE INDEX records_state ON records (kind, state, seq);
