// Health, metrics and the program's settings.
#include "api/api.h"
#include "api/routes.h"
#include "ledger/policy.h"

namespace pointsmall::api {

void get_health(const CallPtr& call) {
  call->json(200, {{"status", "ok"}});
}

void get_metrics(const CallPtr& call) {
  call->text(200, "text/plain; version=0.0.4",
             call->metrics->render(call->services.ledger.writer_stats()));
}

void get_program(const CallPtr& call) {
  const ProgramSettings& program = call->services.program;
  const ledger::Policy& policy = call->services.ledger.policy();
  nlohmann::json accepted = nlohmann::json::array();
  for (const AcceptedCurrency& a : program.accepted)
    accepted.push_back({{"currency", a.currency}, {"points_per_unit", a.points_per_unit}});
  call->json(200, {{"name", program.name},
                   {"currency", program.currency},
                   {"accepted_currencies", accepted},
                   {"point_value_per_100_points", program.point_value_per_100_points},
                   {"time_zone", policy.zone->name()},
                   {"expiry", ledger::format_expiry_policy(policy.expiry)},
                   {"shortfall", ledger::shortfall_policy_name(policy.shortfall)}});
}

}  // namespace pointsmall::api
