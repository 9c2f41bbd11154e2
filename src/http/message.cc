#include "http/message.h"

#include <algorithm>
#include <cctype>

namespace pointsmall::http {
namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const Header& h : headers)
    if (equals_ignoring_case(h.name, name)) return h.value;
  return {};
}

}  // namespace pointsmall::http
