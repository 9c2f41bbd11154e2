-- The ledger on PostgreSQL: the tables and columns of ../001_ledger.sql (the SQLite dialect), with
-- 64-bit integers, sequences for the ids the writers hand out, and the member-keyed indexes that
-- replace SQLite's in-memory account projection (every node reads and writes the same rows).
-- Every member-owned row carries member_id, the distribution column on Citus.

CREATE TABLE settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- Ids are drawn by a batch after it holds its members' locks, so that a member's ids ascend in
-- the order its commands were applied, whichever node applied them.
CREATE SEQUENCE member_ids;
CREATE SEQUENCE transaction_ids;
CREATE SEQUENCE lot_ids;

-- Written by every command of the member (no projection kept in memory across nodes).
CREATE TABLE accounts (
  member_id      BIGINT PRIMARY KEY,
  external_id    TEXT    NOT NULL UNIQUE,
  available      BIGINT  NOT NULL,
  pending        BIGINT  NOT NULL,
  frozen         BIGINT  NOT NULL,
  held           BIGINT  NOT NULL,
  debt           BIGINT  NOT NULL,
  account_frozen BIGINT  NOT NULL,
  next_due_us    BIGINT  NOT NULL,
  live_lots_from_id BIGINT NOT NULL,
  opened_at_us   BIGINT  NOT NULL,
  last_transaction_id BIGINT NOT NULL,
  last_lot_id    BIGINT  NOT NULL
);
CREATE INDEX accounts_next_due ON accounts (next_due_us);

CREATE TABLE transactions (
  id              BIGINT PRIMARY KEY,
  member_id       BIGINT NOT NULL,
  previous_id     BIGINT NOT NULL,
  kind            TEXT   NOT NULL,
  at_us           BIGINT NOT NULL,
  idempotency_key TEXT,
  request_hash    BIGINT NOT NULL,
  reference       TEXT   NOT NULL,
  reason          TEXT   NOT NULL,
  actor           TEXT   NOT NULL,
  result          TEXT   NOT NULL
);
CREATE UNIQUE INDEX transactions_key ON transactions (idempotency_key);
CREATE INDEX transactions_spends ON transactions (member_id, reference) WHERE kind = 'spend';
CREATE INDEX transactions_member ON transactions (member_id, id);

CREATE TABLE entries (
  transaction_id BIGINT NOT NULL,
  seq            BIGINT NOT NULL,
  member_id      BIGINT NOT NULL,
  account        TEXT   NOT NULL,
  amount         BIGINT NOT NULL,
  lot_id         BIGINT,
  PRIMARY KEY (transaction_id, seq)
);

CREATE TABLE lots (
  id             BIGINT PRIMARY KEY,
  member_id      BIGINT NOT NULL,
  previous_lot_id BIGINT NOT NULL,
  transaction_id BIGINT NOT NULL,
  amount         BIGINT NOT NULL,
  remaining      BIGINT NOT NULL,
  state          TEXT   NOT NULL,
  earned_at_us   BIGINT NOT NULL,
  matures_at_us  BIGINT NOT NULL,
  expires_at_us  BIGINT NOT NULL,
  source         TEXT   NOT NULL,
  order_id       TEXT   NOT NULL,
  cost_minor     BIGINT NOT NULL
);
CREATE INDEX lots_member ON lots (member_id, id);

CREATE TABLE holds (
  member_id      BIGINT NOT NULL,
  hold_ref       TEXT   NOT NULL,
  transaction_id BIGINT NOT NULL,
  points         BIGINT NOT NULL,
  state          TEXT   NOT NULL,
  expires_at_us  BIGINT NOT NULL,
  PRIMARY KEY (member_id, hold_ref)
);
CREATE INDEX holds_open ON holds (state, expires_at_us);

CREATE TABLE allocations (
  transaction_id BIGINT NOT NULL,
  lot_id         BIGINT NOT NULL,
  member_id      BIGINT NOT NULL,
  points         BIGINT NOT NULL,
  returned       BIGINT NOT NULL,
  PRIMARY KEY (transaction_id, lot_id)
);

CREATE TABLE orders (
  member_id          BIGINT NOT NULL,
  order_id           TEXT   NOT NULL,
  amount_minor       BIGINT NOT NULL,
  refunded_minor     BIGINT NOT NULL,
  points_earned      BIGINT NOT NULL,
  points_clawed_back BIGINT NOT NULL,
  points_spent       BIGINT NOT NULL,
  points_returned    BIGINT NOT NULL,
  lot_id             BIGINT NOT NULL,
  PRIMARY KEY (member_id, order_id)
);
