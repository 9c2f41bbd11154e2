-- What the HTTP API keeps beside the ledger: member profiles, the events it received, and the
-- credentials of the servers, operators and members that call it.
-- Secrets are never stored: API keys and session tokens as SHA-256 digests, passwords as
-- Argon2id hashes. Profiles hold personal data and are never written to logs.

-- What the merchant tells us about a member; one row per ledger account.
CREATE TABLE member_profiles (
  member_id     INTEGER PRIMARY KEY,
  email         TEXT    NOT NULL,
  phone         TEXT    NOT NULL,
  name          TEXT    NOT NULL,
  birthday      TEXT    NOT NULL,  -- YYYY-MM-DD or ''
  gender        TEXT    NOT NULL,  -- female | male | other | ''
  region        TEXT    NOT NULL,
  referrer      TEXT    NOT NULL,  -- the referring member's external id or ''
  created_at_us INTEGER NOT NULL,
  updated_at_us INTEGER NOT NULL
);

-- Every event accepted through the API, as received, written in the same savepoint as the ledger
-- transaction it produced (the earning engine replays them for back-tests).
CREATE TABLE events (
  transaction_id INTEGER PRIMARY KEY,
  member_id      INTEGER NOT NULL,
  type           TEXT    NOT NULL,
  occurred_at_us INTEGER NOT NULL,
  payload        TEXT    NOT NULL  -- the request body, JSON
);
CREATE INDEX events_occurred ON events (occurred_at_us);

-- Keys of the merchant's servers and tools. key_hash is the SHA-256 of the key (hex).
CREATE TABLE api_keys (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL UNIQUE,
  role          TEXT    NOT NULL,  -- merchant | operator | admin | analyst
  key_hash      TEXT    NOT NULL UNIQUE,
  key_prefix    TEXT    NOT NULL,  -- the first characters, to recognise a key in lists
  created_at_us INTEGER NOT NULL,
  revoked_at_us INTEGER NOT NULL   -- 0: in use
);

-- People who sign in to the console: Argon2id password and a TOTP secret (base32).
CREATE TABLE operators (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL UNIQUE,
  role          TEXT    NOT NULL,  -- operator | admin | analyst
  password_hash TEXT    NOT NULL,
  totp_secret   TEXT    NOT NULL,
  last_totp_step INTEGER NOT NULL, -- the last accepted time step: a code works once
  created_at_us INTEGER NOT NULL,
  disabled      INTEGER NOT NULL
);

-- Signed-in sessions of operators (cookie) and members (bearer token).
CREATE TABLE sessions (
  token_hash    TEXT    PRIMARY KEY,
  kind          TEXT    NOT NULL,  -- operator | member
  subject_id    INTEGER NOT NULL,  -- operators.id or the member id
  csrf_token    TEXT    NOT NULL,  -- operator sessions: sent back in X-CSRF-Token
  created_at_us INTEGER NOT NULL,
  expires_at_us INTEGER NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at_us);

-- Standalone mode (no shop attached): members sign in with a login and an Argon2id password.
CREATE TABLE member_credentials (
  member_id     INTEGER PRIMARY KEY,
  login         TEXT    NOT NULL UNIQUE,
  password_hash TEXT    NOT NULL,
  updated_at_us INTEGER NOT NULL
);
