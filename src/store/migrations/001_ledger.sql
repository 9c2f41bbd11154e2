-- The ledger: accounts, journal, lots, holds, allocations and orders.
-- Portable SQL: integers for points and money (minor units), times as UTC microseconds.
-- Every member-owned row carries member_id, so the tables can later be distributed by member.

CREATE TABLE settings (
  name  TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- The projection of each member's points (re-derivable from lots and entries). The writer keeps
-- rows it changed in memory and writes them back in bulk (see sqlite/account_projection.h);
-- settings 'projection_transaction_id' and 'projection_lot_id' say how far the stored rows are
-- up to date, and opening the store re-derives anything newer from the journal and lots.
-- last_transaction_id and last_lot_id anchor the member's chains of transactions and lots.
CREATE TABLE accounts (
  member_id      INTEGER PRIMARY KEY,
  external_id    TEXT    NOT NULL UNIQUE,
  available      INTEGER NOT NULL,
  pending        INTEGER NOT NULL,
  frozen         INTEGER NOT NULL,
  held           INTEGER NOT NULL,
  debt           INTEGER NOT NULL,
  account_frozen INTEGER NOT NULL,
  next_due_us    INTEGER NOT NULL,
  live_lots_from_id INTEGER NOT NULL,
  opened_at_us   INTEGER NOT NULL,
  last_transaction_id INTEGER NOT NULL,
  last_lot_id    INTEGER NOT NULL
);
CREATE INDEX accounts_next_due ON accounts (next_due_us);

-- The append-only journal. The result is the outcome replayed for a repeated idempotency key.
-- previous_id links a member's transactions newest to oldest (0 ends the chain): history follows
-- it from accounts.last_transaction_id, so appending a transaction touches no member-keyed index.
CREATE TABLE transactions (
  id              INTEGER PRIMARY KEY,
  member_id       INTEGER NOT NULL,
  previous_id     INTEGER NOT NULL,
  kind            TEXT    NOT NULL,
  at_us           INTEGER NOT NULL,
  idempotency_key TEXT,
  request_hash    INTEGER NOT NULL,
  reference       TEXT    NOT NULL,
  reason          TEXT    NOT NULL,
  actor           TEXT    NOT NULL,
  result          TEXT    NOT NULL
);
CREATE UNIQUE INDEX transactions_key ON transactions (idempotency_key);
-- Spends that paid for an order, found when the order is refunded.
CREATE INDEX transactions_spends ON transactions (member_id, reference) WHERE kind = 'spend';

-- Double entry: a transaction's entries sum to zero.
CREATE TABLE entries (
  transaction_id INTEGER NOT NULL,
  seq            INTEGER NOT NULL,
  member_id      INTEGER NOT NULL,
  account        TEXT    NOT NULL,
  amount         INTEGER NOT NULL,
  lot_id         INTEGER,
  PRIMARY KEY (transaction_id, seq)
) WITHOUT ROWID;

-- previous_lot_id links a member's lots newest to oldest, from accounts.last_lot_id.
CREATE TABLE lots (
  id             INTEGER PRIMARY KEY,
  member_id      INTEGER NOT NULL,
  previous_lot_id INTEGER NOT NULL,
  transaction_id INTEGER NOT NULL,
  amount         INTEGER NOT NULL,
  remaining      INTEGER NOT NULL,
  state          TEXT    NOT NULL,
  earned_at_us   INTEGER NOT NULL,
  matures_at_us  INTEGER NOT NULL,
  expires_at_us  INTEGER NOT NULL,
  source         TEXT    NOT NULL,
  order_id       TEXT    NOT NULL,
  cost_minor     INTEGER NOT NULL
);

CREATE TABLE holds (
  member_id      INTEGER NOT NULL,
  hold_ref       TEXT    NOT NULL,
  transaction_id INTEGER NOT NULL,
  points         INTEGER NOT NULL,
  state          TEXT    NOT NULL,
  expires_at_us  INTEGER NOT NULL,
  PRIMARY KEY (member_id, hold_ref)
) WITHOUT ROWID;
CREATE INDEX holds_open ON holds (state, expires_at_us);

CREATE TABLE allocations (
  transaction_id INTEGER NOT NULL,
  lot_id         INTEGER NOT NULL,
  member_id      INTEGER NOT NULL,
  points         INTEGER NOT NULL,
  returned       INTEGER NOT NULL,
  PRIMARY KEY (transaction_id, lot_id)
) WITHOUT ROWID;

CREATE TABLE orders (
  member_id          INTEGER NOT NULL,
  order_id           TEXT    NOT NULL,
  amount_minor       INTEGER NOT NULL,
  refunded_minor     INTEGER NOT NULL,
  points_earned      INTEGER NOT NULL,
  points_clawed_back INTEGER NOT NULL,
  points_spent       INTEGER NOT NULL,
  points_returned    INTEGER NOT NULL,
  lot_id             INTEGER NOT NULL,
  PRIMARY KEY (member_id, order_id)
) WITHOUT ROWID;
