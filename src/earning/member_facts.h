// What the earning engine knows of a member besides counters, from the member's profile.
#pragma once

#include "rules/evaluate.h"
#include "store/member_directory.h"
#include "store/store.h"

namespace pointsmall::earning {

// The member's facts now: joining time, tags, birthday month, and the referrer's member id
// (0 when none, or when the referrer's external id names no member).
rules::Member member_facts(const store::MemberRecord& record, store::LedgerStore& ledger);

}  // namespace pointsmall::earning
