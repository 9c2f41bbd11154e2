#include "store/postgresql/pg_member_directory.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "store/postgresql/pg_db.h"
#include "store/postgresql/pg_guarded_connection.h"

namespace pointsmall::store {
namespace {

using pg::Connection;
using pg::Params;
using pg::PgError;
using pg::Result;
using pg::Sql;

// The same columns as the SQLite directory reads, in the same order.
constexpr const char* kSelect =
    "SELECT a.member_id, a.external_id, a.opened_at_us, "
    "coalesce(p.updated_at_us, a.opened_at_us), coalesce(p.email, ''), coalesce(p.phone, ''), "
    "coalesce(p.name, ''), coalesce(p.birthday, ''), coalesce(p.gender, ''), "
    "coalesce(p.region, ''), coalesce(p.referrer, ''), p.member_id IS NOT NULL, "
    "coalesce(p.tags, '[]') "
    "FROM accounts a LEFT JOIN member_profiles p ON p.member_id = a.member_id ";

constexpr const char* kUpsert =
    "INSERT INTO member_profiles (member_id, email, phone, name, birthday, gender, region, "
    "referrer, created_at_us, updated_at_us, tags) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) ON CONFLICT (member_id) DO "
    "UPDATE SET email = excluded.email, phone = excluded.phone, name = excluded.name, "
    "birthday = excluded.birthday, gender = excluded.gender, region = excluded.region, "
    "referrer = excluded.referrer, updated_at_us = excluded.updated_at_us, tags = excluded.tags";
constexpr const char* kCodeOf = "SELECT code FROM referral_codes WHERE member_id = $1";
// A member that got a code meanwhile (on another node) keeps it; a code that another member
// holds is a unique violation.
constexpr const char* kInsertCode =
    "INSERT INTO referral_codes (code, member_id) VALUES ($1, $2) "
    "ON CONFLICT (member_id) DO NOTHING";
constexpr Sql kMemberOfCode{"member_of_referral_code",
                            "SELECT member_id FROM referral_codes WHERE code = $1"};

MemberRecord read_record(const Result& r, int i) {
  MemberRecord record;
  record.member_id = r.integer(i, 0);
  record.external_id = r.text(i, 1);
  record.joined_at_us = r.integer(i, 2);
  record.updated_at_us = r.integer(i, 3);
  record.profile = MemberProfile{r.text(i, 4), r.text(i, 5), r.text(i, 6), r.text(i, 7),
                                 r.text(i, 8), r.text(i, 9), r.text(i, 10)};
  record.has_profile = r.boolean(i, 11);
  const auto tags = nlohmann::json::parse(r.text(i, 12), nullptr, false);
  if (!tags.is_array()) throw PgError("XX001", "unreadable member tags");
  for (const auto& tag : tags)
    if (tag.is_string()) record.profile.tags.push_back(tag.get<std::string>());
  return record;
}

std::optional<MemberRecord> first_record(const Result& r) {
  if (r.rows() == 0) return std::nullopt;
  return read_record(r, 0);
}

std::optional<std::string> code_of(Connection& db, MemberId member_id) {
  const Result r = db.query(kCodeOf, Params().add(member_id));
  if (r.rows() == 0) return std::nullopt;
  return r.text(0, 0);
}

class PostgresMemberDirectory final : public MemberDirectory {
 public:
  explicit PostgresMemberDirectory(const std::string& url) : db_(url) {
    db_.with([](Connection& db) {
      pg::require_tables(db, "accounts, member_profiles, referral_codes", "the member directory");
    });
  }

  void put_profile(MemberId member_id, const MemberProfile& p, TimeUs now_us) override {
    const std::string tags = nlohmann::json(p.tags).dump();
    db_.with([&](Connection& db) {
      db.query(kUpsert, Params()
                            .add(member_id)
                            .add(p.email)
                            .add(p.phone)
                            .add(p.name)
                            .add(p.birthday)
                            .add(p.gender)
                            .add(p.region)
                            .add(p.referrer)
                            .add(now_us)
                            .add(tags));
    });
  }

  std::string referral_code(MemberId member_id, const std::string& proposed) override {
    return db_.with([&](Connection& db) {
      if (auto code = code_of(db, member_id)) return *code;
      try {
        db.query(kInsertCode, Params().add(proposed).add(member_id));
      } catch (const PgError& error) {
        // Two nodes proposing the same code for the same member: the loser may see the code's
        // uniqueness violated before the member's conflict. The member's code then exists.
        if (!error.unique_violation()) throw;
        if (auto code = code_of(db, member_id)) return *code;
        throw;
      }
      // Read back: the proposed code, or the one another node gave the member meanwhile.
      if (auto code = code_of(db, member_id)) return *code;
      throw PgError("XX000",
                    "the referral code of member " + std::to_string(member_id) + " was not stored");
    });
  }

  std::optional<MemberId> member_by_referral_code(const std::string& code) override {
    return db_.with([&](Connection& db) -> std::optional<MemberId> {
      const Result r = db.run(kMemberOfCode, Params().add(code));
      if (r.rows() == 0) return std::nullopt;
      return r.integer(0, 0);
    });
  }

  std::optional<MemberRecord> find(MemberId member_id) override {
    return db_.with(
        [&](Connection& db) { return first_record(db.run(by_id_, Params().add(member_id))); });
  }

  std::optional<MemberRecord> find_by_external_id(const std::string& external_id) override {
    return db_.with([&](Connection& db) {
      return first_record(db.run(by_external_id_, Params().add(external_id)));
    });
  }

  std::vector<MemberRecord> list(MemberId after, std::size_t limit) override {
    const auto page = static_cast<std::int64_t>(std::min(limit, kMaxPage));
    return db_.with([&](Connection& db) {
      const Result r =
          db.query(std::string(kSelect) + "WHERE a.member_id > $1 ORDER BY a.member_id LIMIT $2",
                   Params().add(after).add(page));
      std::vector<MemberRecord> records;
      records.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) records.push_back(read_record(r, i));
      return records;
    });
  }

  std::vector<MemberRecord> search(const std::string& text, MemberId after,
                                   std::size_t limit) override {
    const auto page = static_cast<std::int64_t>(std::min(limit, kMaxPage));
    const std::string prefix = like_escaped(text) + "%";
    return db_.with([&](Connection& db) {
      const Result r =
          db.query(std::string(kSelect) +
                       "WHERE a.member_id > $1 AND (a.external_id ILIKE $2 ESCAPE '\\' "
                       "OR p.name ILIKE $3 ESCAPE '\\' OR p.email ILIKE $3 ESCAPE '\\' "
                       "OR p.phone ILIKE $3 ESCAPE '\\') ORDER BY a.member_id LIMIT $4",
                   Params().add(after).add(prefix).add("%" + prefix).add(page));
      std::vector<MemberRecord> records;
      records.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) records.push_back(read_record(r, i));
      return records;
    });
  }

 private:
  // The look-ups of every request about a member, prepared once per connection.
  const std::string by_id_text_ = std::string(kSelect) + "WHERE a.member_id = $1";
  const std::string by_external_id_text_ = std::string(kSelect) + "WHERE a.external_id = $1";
  const Sql by_id_{"member_by_id", by_id_text_.c_str()};
  const Sql by_external_id_{"member_by_external_id", by_external_id_text_.c_str()};
  pg::GuardedConnection db_;
};

}  // namespace

std::unique_ptr<MemberDirectory> open_postgres_member_directory(const std::string& url) {
  return std::make_unique<PostgresMemberDirectory>(url);
}

}  // namespace pointsmall::store
