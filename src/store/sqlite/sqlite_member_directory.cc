#include "store/sqlite/sqlite_member_directory.h"

#include <mutex>
#include <nlohmann/json.hpp>

#include "store/sqlite/sqlite_db.h"

namespace pointsmall::store {
namespace {

using sqlite::Connection;
using sqlite::Statement;
using sqlite::StatementScope;

constexpr const char* kSelect =
    "SELECT a.member_id, a.external_id, a.opened_at_us, "
    "coalesce(p.updated_at_us, a.opened_at_us), coalesce(p.email, ''), coalesce(p.phone, ''), "
    "coalesce(p.name, ''), coalesce(p.birthday, ''), coalesce(p.gender, ''), "
    "coalesce(p.region, ''), coalesce(p.referrer, ''), p.member_id IS NOT NULL, "
    "coalesce(p.tags, '[]') "
    "FROM accounts a LEFT JOIN member_profiles p ON p.member_id = a.member_id ";

MemberRecord read_record(const Statement& row) {
  MemberRecord record;
  record.member_id = row.column_int(0);
  record.external_id = row.column_text(1);
  record.joined_at_us = row.column_int(2);
  record.updated_at_us = row.column_int(3);
  record.profile =
      MemberProfile{row.column_text(4), row.column_text(5), row.column_text(6), row.column_text(7),
                    row.column_text(8), row.column_text(9), row.column_text(10)};
  record.has_profile = row.column_int(11) != 0;
  const auto tags = nlohmann::json::parse(row.column_text(12), nullptr, false);
  if (!tags.is_array()) throw sqlite::SqliteError(SQLITE_CORRUPT, "unreadable member tags");
  for (const auto& tag : tags)
    if (tag.is_string()) record.profile.tags.push_back(tag.get<std::string>());
  return record;
}

class SqliteMemberDirectory final : public MemberDirectory {
 public:
  explicit SqliteMemberDirectory(const std::string& path)
      : db_(path, false, false),
        upsert_(db_.prepare(
            "INSERT INTO member_profiles (member_id, email, phone, name, birthday, gender, "
            "region, referrer, created_at_us, updated_at_us, tags) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) ON CONFLICT (member_id) DO "
            "UPDATE SET email = excluded.email, phone = excluded.phone, name = excluded.name, "
            "birthday = excluded.birthday, gender = excluded.gender, region = excluded.region, "
            "referrer = excluded.referrer, updated_at_us = excluded.updated_at_us, "
            "tags = excluded.tags")),
        by_id_(db_.prepare(std::string(kSelect) + "WHERE a.member_id = $1")),
        by_external_id_(db_.prepare(std::string(kSelect) + "WHERE a.external_id = $1")),
        list_(db_.prepare(std::string(kSelect) +
                          "WHERE a.member_id > $1 ORDER BY a.member_id LIMIT $2")),
        // LIKE ignores the case of ASCII letters.
        search_(db_.prepare(std::string(kSelect) +
                            "WHERE a.member_id > $1 AND (a.external_id LIKE $2 ESCAPE '\\' "
                            "OR p.name LIKE $3 ESCAPE '\\' OR p.email LIKE $3 ESCAPE '\\' "
                            "OR p.phone LIKE $3 ESCAPE '\\') ORDER BY a.member_id LIMIT $4")),
        code_of_(db_.prepare("SELECT code FROM referral_codes WHERE member_id = $1")),
        member_of_code_(db_.prepare("SELECT member_id FROM referral_codes WHERE code = $1")),
        // A member that got a code meanwhile (through another connection) keeps it; a code
        // that another member holds is a constraint violation.
        insert_code_(db_.prepare("INSERT INTO referral_codes (code, member_id) VALUES ($1, $2) "
                                 "ON CONFLICT (member_id) DO NOTHING")) {
    db_.exec("PRAGMA busy_timeout = 5000");
    db_.exec("PRAGMA synchronous = FULL");  // an answered profile change is on disk
  }

  void put_profile(MemberId member_id, const MemberProfile& p, TimeUs now_us) override {
    std::lock_guard lock(mutex_);
    StatementScope scope(upsert_);
    upsert_.bind(1, member_id).bind(2, p.email).bind(3, p.phone).bind(4, p.name);
    upsert_.bind(5, p.birthday).bind(6, p.gender).bind(7, p.region).bind(8, p.referrer);
    const std::string tags = nlohmann::json(p.tags).dump();
    upsert_.bind(9, now_us).bind(10, tags).run();
  }

  std::string referral_code(MemberId member_id, const std::string& proposed) override {
    std::lock_guard lock(mutex_);
    if (auto code = code_of(member_id)) return *code;
    insert_code_.bind(1, proposed).bind(2, member_id).run();
    // Read back: the proposed code, or the one another connection gave the member meanwhile.
    if (auto code = code_of(member_id)) return *code;
    throw sqlite::SqliteError(SQLITE_INTERNAL, "the referral code was not stored");
  }

  std::optional<MemberId> member_by_referral_code(const std::string& code) override {
    std::lock_guard lock(mutex_);
    StatementScope scope(member_of_code_);
    member_of_code_.bind(1, code);
    if (!member_of_code_.step()) return std::nullopt;
    return member_of_code_.column_int(0);
  }

  std::optional<MemberRecord> find(MemberId member_id) override {
    std::lock_guard lock(mutex_);
    return one(by_id_, [&](Statement& s) { s.bind(1, member_id); });
  }

  std::optional<MemberRecord> find_by_external_id(const std::string& external_id) override {
    std::lock_guard lock(mutex_);
    return one(by_external_id_, [&](Statement& s) { s.bind(1, external_id); });
  }

  std::vector<MemberRecord> list(MemberId after, std::size_t limit) override {
    std::lock_guard lock(mutex_);
    std::vector<MemberRecord> records;
    StatementScope scope(list_);
    list_.bind(1, after).bind(2, static_cast<std::int64_t>(std::min(limit, kMaxPage)));
    while (list_.step()) records.push_back(read_record(list_));
    return records;
  }

  std::vector<MemberRecord> search(const std::string& text, MemberId after,
                                   std::size_t limit) override {
    std::lock_guard lock(mutex_);
    const std::string prefix = like_escaped(text) + "%";
    const std::string infix = "%" + prefix;
    std::vector<MemberRecord> records;
    StatementScope scope(search_);
    search_.bind(1, after).bind(2, prefix).bind(3, infix);
    search_.bind(4, static_cast<std::int64_t>(std::min(limit, kMaxPage)));
    while (search_.step()) records.push_back(read_record(search_));
    return records;
  }

 private:
  std::optional<std::string> code_of(MemberId member_id) {
    StatementScope scope(code_of_);
    code_of_.bind(1, member_id);
    if (!code_of_.step()) return std::nullopt;
    return code_of_.column_text(0);
  }

  template <typename Bind>
  std::optional<MemberRecord> one(Statement& statement, Bind&& bind) {
    StatementScope scope(statement);
    bind(statement);
    if (!statement.step()) return std::nullopt;
    return read_record(statement);
  }

  std::mutex mutex_;
  Connection db_;
  Statement upsert_;
  Statement by_id_;
  Statement by_external_id_;
  Statement list_;
  Statement search_;
  Statement code_of_;
  Statement member_of_code_;
  Statement insert_code_;
};

}  // namespace

std::unique_ptr<MemberDirectory> open_sqlite_member_directory(const std::string& path) {
  return std::make_unique<SqliteMemberDirectory>(path);
}

}  // namespace pointsmall::store
