// Members as people: the profile the merchant gives (personal data, never logged) beside the
// ledger account. Reads join the two; writes touch only profiles.
//
// Contract: a profile exists only for a member whose ledger account exists (the API writes it
// right after opening the account, and again on a retry of the same request); `find` and `list`
// return every account, with empty profile fields when it has no profile (e.g. imported members).
// Balances and the account's frozen state are the ledger's (LedgerStore::account), not here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/types.h"

namespace pointsmall::store {

struct MemberProfile {
  std::string email;
  std::string phone;
  std::string name;
  std::string birthday;  // YYYY-MM-DD or ""
  std::string gender;    // female | male | other | ""
  std::string region;
  std::string referrer;           // the referring member's external id or ""
  std::vector<std::string> tags;  // the merchant's labels, for earning rules and segments
  friend bool operator==(const MemberProfile&, const MemberProfile&) = default;
};

struct MemberRecord {
  MemberId member_id = 0;
  std::string external_id;
  TimeUs joined_at_us = 0;
  TimeUs updated_at_us = 0;  // the profile's last change, or joined_at without a profile
  bool has_profile = false;
  MemberProfile profile;
};

// `text` for a LIKE pattern with ESCAPE '\\': its %, _ and \\ stand for themselves.
inline std::string like_escaped(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

class MemberDirectory {
 public:
  static constexpr std::size_t kMaxPage = 1000;
  virtual ~MemberDirectory() = default;

  // Inserts or replaces the member's profile. Throws std::runtime_error on a storage failure.
  virtual void put_profile(MemberId member_id, const MemberProfile& profile, TimeUs now_us) = 0;
  virtual std::optional<MemberRecord> find(MemberId member_id) = 0;
  virtual std::optional<MemberRecord> find_by_external_id(const std::string& external_id) = 0;
  // Members with ids above `after`, ascending, at most `limit` (<= kMaxPage).
  virtual std::vector<MemberRecord> list(MemberId after, std::size_t limit) = 0;
  // Members matching `text` (not empty), letters compared case-insensitively: an external id
  // that starts with it, or a name, e-mail or phone that contains it; ids above `after`,
  // ascending, at most `limit` (<= kMaxPage).
  virtual std::vector<MemberRecord> search(const std::string& text, MemberId after,
                                           std::size_t limit) = 0;

  // The member's referral code: the one it has, else `proposed` (which must be unused) now
  // assigned. Throws std::runtime_error on a storage failure (e.g. `proposed` is taken).
  virtual std::string referral_code(MemberId member_id, const std::string& proposed) = 0;
  virtual std::optional<MemberId> member_by_referral_code(const std::string& code) = 0;
};

}  // namespace pointsmall::store
