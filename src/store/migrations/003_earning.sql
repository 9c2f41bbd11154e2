-- The earning engine: counters beside the ledger, how each earn was computed, tier changes, the
-- merchant's versioned earning documents, referral codes and member tags.

-- Named integers per member (scope = member id) or program-wide (scope 0), changed in the same
-- savepoint as the command they belong to (rules/README.md lists the names).
CREATE TABLE counters (
  scope INTEGER NOT NULL,
  name  TEXT    NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (scope, name)
) WITHOUT ROWID;
-- Members with a tier above the first, for the periodic tier review.
CREATE INDEX counters_tier ON counters (scope) WHERE name = 'tier';

-- How the earning engine computed a transaction's points: the rules that fired and why (JSON).
CREATE TABLE earnings (
  transaction_id INTEGER PRIMARY KEY,
  member_id      INTEGER NOT NULL,
  record         TEXT    NOT NULL
);

CREATE TABLE tier_changes (
  id             INTEGER PRIMARY KEY,
  member_id      INTEGER NOT NULL,
  transaction_id INTEGER NOT NULL,
  at_us          INTEGER NOT NULL,
  from_level     INTEGER NOT NULL,
  to_level       INTEGER NOT NULL,
  reason         TEXT    NOT NULL
);
CREATE INDEX tier_changes_member ON tier_changes (member_id, id);

-- Rules, campaigns, tiers and engagement settings as the merchant saved them. Every save is a new
-- version; the latest version of an id is the one in force unless it is retired.
CREATE TABLE earning_documents (
  kind          TEXT    NOT NULL,  -- rule | campaign | tiers | engagement
  id            TEXT    NOT NULL,
  version       INTEGER NOT NULL,
  document      TEXT    NOT NULL,  -- JSON as written back by rules/document.h
  retired       INTEGER NOT NULL,  -- 1: this version retires the id (document is the last one)
  created_at_us INTEGER NOT NULL,
  created_by    TEXT    NOT NULL,  -- the actor
  PRIMARY KEY (kind, id, version)
);

CREATE TABLE referral_codes (
  code      TEXT    PRIMARY KEY,
  member_id INTEGER NOT NULL UNIQUE
);

ALTER TABLE member_profiles ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';  -- JSON array of text
