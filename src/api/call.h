// One request on its way through the API: what the handler reads (request, path parameters,
// query, caller) and how it answers. Handlers get a shared pointer, so that an answer can come
// from the ledger writer's callback after the handler returned.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/problem.h"
#include "auth/credential_store.h"
#include "http/server.h"
#include "store/store.h"

namespace pointsmall::api {

struct Services;

// Who is calling.
struct Caller {
  enum class Kind : std::uint8_t { anonymous, api_key, operator_session, member_session };
  Kind kind = Kind::anonymous;
  auth::Role role = auth::Role::merchant;  // meaningless for anonymous
  std::int64_t id = 0;                     // API key id, operator id, or member id
  std::string actor;          // for the journal: "api-key:shop", "operator:7", "member:12"
  std::string session_token;  // for sign-out
  std::string csrf_token;     // operator sessions
  [[nodiscard]] bool authenticated() const { return kind != Kind::anonymous; }
};

class Call : public std::enable_shared_from_this<Call> {
 public:
  Call(Services& services, http::Request request, http::Reply reply);

  Services& services;
  http::Request request;
  std::vector<std::string> params;  // path parameters, in the order of the route's template
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Caller caller;
  std::size_t route_index = 0;
  std::function<void(const http::Response&)> on_answer;  // metrics and access log
  std::function<void()> forget_api_keys;                 // after a key is revoked: drop cached keys
  const class Metrics* metrics = nullptr;

  // The first value of a query parameter, or nullopt.
  [[nodiscard]] std::optional<std::string> query_value(std::string_view name) const;
  // Path parameter `index` as a positive id; answers 404 unknown_member-like `not_found` problem
  // (with `what`) and returns nullopt when it is not one.
  std::optional<std::int64_t> id_param(std::size_t index, const Problem& not_found);

  void json(unsigned status, const nlohmann::json& body, std::vector<http::Header> headers = {});
  void no_content();
  void text(unsigned status, std::string content_type, std::string body);
  void fail(const Problem& problem);
  void answer(http::Response response);
  // Runs `work` on the server's threads (see http::Reply::defer).
  void defer(std::function<void()> work) { reply_.defer(std::move(work)); }

  // Submits a ledger command; `done` runs on the server's threads with an accepted result.
  // Storage failures answer 503 and rejections their problem, without calling `done`.
  // The ledger's idempotency digest of this request (caller, method, path and body).
  [[nodiscard]] std::uint64_t request_digest() const;
  using Done = std::function<void(const std::shared_ptr<Call>&, const store::CommandResult&)>;
  void submit(ledger::Command command, Done done);
  // The same, prepared inside the writer (store/preparer.h); a refusal answers its problem.
  void submit_prepared(ledger::Command command, std::shared_ptr<store::Preparer> preparer,
                       Done done);

  [[nodiscard]] bool answered() const { return answered_; }
  // Runs `work`; if it throws, answers 500 (a bug) or 503 (a store failed) unless answered.
  // fail() and answer() do nothing once the call is answered.
  void guard(const std::function<void()>& work);

 private:
  http::Reply reply_;
  bool answered_ = false;
};

using CallPtr = std::shared_ptr<Call>;

// The body as a JSON object, or answers the problem and returns nullopt.
std::optional<nlohmann::json> read_body(const CallPtr& call);
// Answers 422 validation_failed with the errors when there are any; returns whether it did.
bool fail_if_invalid(const CallPtr& call, std::vector<FieldError>& errors);

}  // namespace pointsmall::api
