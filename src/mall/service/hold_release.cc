#include "mall/service/hold_release.h"

#include "mall/service/preparers.h"

namespace pointsmall::mall {

store::HoldReleasePreparers hold_release_preparers(store::LedgerStore& ledger, MallCatalog& catalog,
                                                   earning::EarningPrograms& programs) {
  return
      [&ledger, &catalog, &programs](
          MemberId /*member_id*/, const std::string& hold_ref) -> std::shared_ptr<store::Preparer> {
        auto order_id = order_id_of_hold(hold_ref);
        if (!order_id) return nullptr;
        auto record = ledger.record({kRedemptionRecord, *order_id});
        if (!record) return nullptr;
        StepRequest request;
        request.order = order_of(*record);
        request.step = OrderStep::time_out;
        return std::make_shared<StepPreparer>(MallSnapshot{programs.current(), catalog.current()},
                                              std::move(request));
      };
}

}  // namespace pointsmall::mall
