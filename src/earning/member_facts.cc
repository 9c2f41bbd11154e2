#include "earning/member_facts.h"

namespace pointsmall::earning {

rules::Member member_facts(const store::MemberRecord& record, store::LedgerStore& ledger) {
  rules::Member member;
  member.id = record.member_id;
  member.joined_at_us = record.joined_at_us;
  member.tags = record.profile.tags;
  const std::string& birthday = record.profile.birthday;  // YYYY-MM-DD (validated when saved)
  if (birthday.size() == 10) member.birthday_month = std::stoi(birthday.substr(5, 2));
  if (!record.profile.referrer.empty())
    member.referrer = ledger.member_by_external_id(record.profile.referrer).value_or(0);
  return member;
}

}  // namespace pointsmall::earning
