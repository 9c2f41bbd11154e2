#include "auth/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <array>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace pointsmall::auth {
namespace {

constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// libsodium must be initialised once before use (it picks implementations and opens the random
// source). sodium_init() is safe to call again, but call_once makes the cost and failure explicit.
void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot be initialised");
  });
}

// The value of a base32 character, or -1.
int base32_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

// Counts UTF-8 code points: every byte that is not a continuation byte (10xxxxxx) starts one.
std::size_t count_characters(std::string_view text) {
  std::size_t count = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++count;
  return count;
}

std::string percent_encode(std::string_view text) {
  constexpr std::string_view kHex = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4U]);
      out.push_back(kHex[byte & 0x0FU]);
    }
  }
  return out;
}

// The RFC 4226 HOTP value of `counter` under `key`, as kTotpDigits decimal digits.
std::string hotp(const std::string& key, std::uint64_t counter) {
  std::array<unsigned char, 8> message{};
  for (std::size_t i = 0; i < message.size(); ++i)
    message[message.size() - 1 - i] = static_cast<unsigned char>(counter >> (8 * i));
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
           digest.data(), &digest_size) == nullptr ||
      digest_size != 20) {
    throw std::runtime_error("HMAC-SHA1 failed");
  }
  // Dynamic truncation (RFC 4226 section 5.3).
  const std::size_t offset = digest[19] & 0x0FU;
  const std::uint32_t binary = (static_cast<std::uint32_t>(digest[offset] & 0x7FU) << 24U) |
                               (static_cast<std::uint32_t>(digest[offset + 1]) << 16U) |
                               (static_cast<std::uint32_t>(digest[offset + 2]) << 8U) |
                               static_cast<std::uint32_t>(digest[offset + 3]);
  std::uint32_t value = binary % 1'000'000U;
  std::string code(kTotpDigits, '0');
  for (std::size_t i = kTotpDigits; i > 0; --i) {
    code[i - 1] = static_cast<char>('0' + value % 10U);
    value /= 10U;
  }
  return code;
}

}  // namespace

void random_bytes(std::uint8_t* out, std::size_t size) {
  ensure_sodium();
  randombytes_buf(out, size);
}

std::string random_token(std::size_t bytes) {
  ensure_sodium();
  std::vector<unsigned char> random(bytes);
  randombytes_buf(random.data(), random.size());
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string text(sodium_base64_ENCODED_LEN(bytes, kVariant), '\0');
  sodium_bin2base64(text.data(), text.size(), random.data(), random.size(), kVariant);
  sodium_memzero(random.data(), random.size());
  text.resize(text.size() - 1);  // the terminating NUL that sodium_bin2base64 writes
  return text;
}

std::string sha256_hex(std::string_view data) {
  ensure_sodium();
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  std::string hex(digest.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
  hex.resize(digest.size() * 2);
  return hex;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  ensure_sodium();
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string generate_api_key() {
  return std::string(kApiKeyPrefix) + random_token(kApiKeyRandomBytes);
}

std::optional<std::string> password_problem(std::string_view password) {
  const std::size_t length = count_characters(password);
  if (length < kPasswordMinLength)
    return "the password must have at least " + std::to_string(kPasswordMinLength) + " characters";
  if (length > kPasswordMaxLength)
    return "the password must have at most " + std::to_string(kPasswordMaxLength) + " characters";
  return std::nullopt;
}

std::string hash_password(std::string_view password) {
  ensure_sodium();
  std::array<char, crypto_pwhash_STRBYTES> hash{};
  if (crypto_pwhash_str(hash.data(), password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    throw std::runtime_error("cannot hash a password: out of memory");
  }
  return std::string(hash.data());
}

bool verify_password(std::string_view hash, std::string_view password) {
  ensure_sodium();
  if (hash.size() >= crypto_pwhash_STRBYTES) return false;
  const std::string terminated(hash);  // libsodium reads the hash up to its NUL
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

std::string generate_totp_secret() {
  ensure_sodium();
  std::string secret(kTotpSecretBytes, '\0');
  randombytes_buf(secret.data(), secret.size());
  std::string text = base32_encode(secret);
  sodium_memzero(secret.data(), secret.size());
  return text;
}

std::string base32_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t buffer = 0;
  unsigned bits = 0;
  for (char c : bytes) {
    buffer = (buffer << 8U) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kBase32Alphabet[(buffer >> bits) & 0x1FU]);
    }
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 0x1FU]);
  return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
  std::size_t end = text.size();
  while (end > 0 && text[end - 1] == '=') --end;
  if (end != text.size() && text.size() % 8 != 0) return std::nullopt;  // padding to 8 or none
  if (text.size() - end > 6) return std::nullopt;
  // 1, 3 and 6 characters in a last group of 8 cannot end a whole number of bytes.
  const std::size_t tail = end % 8;
  if (tail == 1 || tail == 3 || tail == 6) return std::nullopt;
  if (end != text.size() && (text.size() - end) != (8 - tail) % 8) return std::nullopt;
  std::string out;
  out.reserve(end * 5 / 8);
  std::uint32_t buffer = 0;
  unsigned bits = 0;
  for (std::size_t i = 0; i < end; ++i) {
    const int value = base32_value(text[i]);
    if (value < 0) return std::nullopt;
    buffer = ((buffer << 5U) | static_cast<std::uint32_t>(value)) & 0xFFFU;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFFU));
    }
  }
  if ((buffer & ((1U << bits) - 1U)) != 0) return std::nullopt;  // non-canonical last character
  return out;
}

std::int64_t totp_step(TimeUs at_us) {
  std::int64_t step = at_us / kTotpStepUs;
  if (at_us % kTotpStepUs < 0) --step;  // floor, for times before 1970
  return step;
}

std::string totp_code(std::string_view secret_base32, std::int64_t step) {
  std::optional<std::string> key = base32_decode(secret_base32);
  if (!key) throw std::invalid_argument("the TOTP secret is not base32");
  std::string code = hotp(*key, static_cast<std::uint64_t>(step));
  sodium_memzero(key->data(), key->size());
  return code;
}

std::optional<std::int64_t> verify_totp(std::string_view secret_base32, std::string_view code,
                                        TimeUs now_us, std::int64_t last_used_step) {
  if (code.size() != kTotpDigits) return std::nullopt;
  for (char c : code)
    if (c < '0' || c > '9') return std::nullopt;
  std::optional<std::string> key = base32_decode(secret_base32);
  if (!key || key->empty()) return std::nullopt;
  const std::int64_t now_step = totp_step(now_us);
  std::optional<std::int64_t> accepted;
  // Every candidate is computed and compared, whichever matches, so timing says nothing.
  for (std::int64_t step = now_step - 1; step <= now_step + 1; ++step) {
    const bool matches = constant_time_equal(hotp(*key, static_cast<std::uint64_t>(step)), code);
    if (matches && step > last_used_step && !accepted) accepted = step;
  }
  sodium_memzero(key->data(), key->size());
  return accepted;
}

std::string totp_uri(std::string_view issuer, std::string_view account,
                     std::string_view secret_base32) {
  const std::string encoded_issuer = percent_encode(issuer);
  return "otpauth://totp/" + encoded_issuer + ":" + percent_encode(account) +
         "?secret=" + std::string(secret_base32) + "&issuer=" + encoded_issuer +
         "&algorithm=SHA1&digits=" + std::to_string(kTotpDigits) +
         "&period=" + std::to_string(kTotpStepUs / kMicrosPerSecond);
}

}  // namespace pointsmall::auth
