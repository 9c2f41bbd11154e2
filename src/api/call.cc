#include "api/call.h"

#include <algorithm>
#include <charconv>

#include "api/api.h"
#include "api/json_input.h"

namespace pointsmall::api {

Call::Call(Services& services_in, http::Request request_in, http::Reply reply)
    : services(services_in), request(std::move(request_in)), reply_(std::move(reply)) {}

std::optional<std::string> Call::query_value(std::string_view name) const {
  for (const auto& [key, value] : query)
    if (key == name) return value;
  return std::nullopt;
}

std::optional<std::int64_t> Call::id_param(std::size_t index, const Problem& not_found) {
  const std::string& text = params.at(index);
  std::int64_t id = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size() || id <= 0) {
    fail(not_found);
    return std::nullopt;
  }
  return id;
}

void Call::answer(http::Response response) {
  if (answered_) return;  // a handler bug must not send twice
  answered_ = true;
  // API answers are never cached; the web front end's files (api/static_site.h) say their own.
  const bool cache_said =
      std::any_of(response.headers.begin(), response.headers.end(),
                  [](const http::Header& h) { return h.name == "cache-control"; });
  if (!cache_said) response.headers.push_back({"cache-control", "no-store"});
  if (on_answer) on_answer(response);
  reply_.send(std::move(response));
}

void Call::json(unsigned status, const nlohmann::json& body, std::vector<http::Header> headers) {
  http::Response response;
  response.status = status;
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  response.headers = std::move(headers);
  answer(std::move(response));
}

void Call::no_content() {
  http::Response response;
  response.status = 204;
  answer(std::move(response));
}

void Call::text(unsigned status, std::string content_type, std::string body) {
  http::Response response;
  response.status = status;
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  answer(std::move(response));
}

void Call::fail(const Problem& problem) {
  if (!answered_) answer(to_response(problem));
}

std::uint64_t Call::request_digest() const {
  // FNV-1a of caller, method, path and body, each followed by a 0 byte so that fields cannot run
  // together.
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  auto add = [&hash](std::string_view text) {
    for (char c : text) {
      hash ^= static_cast<unsigned char>(c);
      hash *= 0x100000001b3ULL;
    }
    hash *= 0x100000001b3ULL;
  };
  add(caller.actor);  // another caller's request with the same key is a conflict
  add(request.method);
  add(std::string_view(request.target).substr(0, request.target.find('?')));
  add(request.body);
  return hash == 0 ? 1 : hash;
}

void Call::submit(ledger::Command command, Done done) {
  submit_prepared(std::move(command), nullptr, std::move(done));
}

void Call::submit_prepared(ledger::Command command, std::shared_ptr<store::Preparer> preparer,
                           Done done) {
  // "Same key, same request" means the same HTTP request, whatever the server derived from it.
  command.client_request_hash = request_digest();
  auto self = shared_from_this();
  services.ledger.submit_prepared(
      std::move(command), std::move(preparer),
      [self, done = std::move(done)](const store::CommandResult& result) {
        // On the writer thread: hand the rest to the server's threads at once.
        self->defer([self, done, result] {
          self->guard([&] {
            if (!result.storage_error.empty()) {
              self->fail(problem(ApiError::storage_unavailable,
                                 "the ledger could not write: " + result.storage_error));
            } else if (result.rejection) {
              self->fail(problem(*result.rejection));
            } else if (result.refusal) {
              self->fail(problem(*result.refusal));
            } else {
              done(self, result);
            }
          });
        });
      });
}

void Call::guard(const std::function<void()>& work) {
  try {
    work();
  } catch (const nlohmann::json::exception&) {
    fail(problem(ApiError::internal_error));
  } catch (const std::exception& error) {  // a store that failed
    fail(problem(ApiError::storage_unavailable, error.what()));
  }
}

std::optional<nlohmann::json> read_body(const CallPtr& call) {
  auto parsed = parse_object(call->request.body);
  if (auto* failed = std::get_if<Problem>(&parsed)) {
    call->fail(*failed);
    return std::nullopt;
  }
  return std::move(std::get<nlohmann::json>(parsed));
}

bool fail_if_invalid(const CallPtr& call, std::vector<FieldError>& errors) {
  if (errors.empty()) return false;
  const std::string detail = errors.size() == 1
                                 ? errors.front().field + " " + errors.front().message
                                 : std::to_string(errors.size()) + " fields are invalid";
  call->fail(problem(ApiError::validation_failed, detail, std::move(errors)));
  return true;
}

}  // namespace pointsmall::api
