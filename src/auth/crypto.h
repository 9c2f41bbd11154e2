// The cryptography of credentials: random tokens, SHA-256 digests, Argon2id password hashes and
// TOTP codes (RFC 6238). Pure functions over libsodium and OpenSSL; safe to call from any thread.
//
// Secrets handled here (API keys, passwords, session tokens, TOTP secrets) are never stored in
// plain text and never written to logs: keys and tokens are kept as sha256_hex, passwords as
// hash_password strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/types.h"

namespace pointsmall::auth {

// `bytes` bytes from the operating system's random source, as URL-safe base64 without padding
// (RFC 4648 section 5): 4 characters for every 3 bytes.
std::string random_token(std::size_t bytes);
// Fills `size` bytes at `out` from the operating system's random source.
void random_bytes(std::uint8_t* out, std::size_t size);

// The SHA-256 digest of `data` as 64 lowercase hexadecimal characters.
std::string sha256_hex(std::string_view data);

// True when `a` and `b` are equal. Takes the same time for every pair of equal-length inputs.
bool constant_time_equal(std::string_view a, std::string_view b);

// API keys are "pm_" followed by random_token(kApiKeyRandomBytes) (46 characters in all).
inline constexpr std::string_view kApiKeyPrefix = "pm_";
inline constexpr std::size_t kApiKeyRandomBytes = 32;
std::string generate_api_key();

// Passwords. Their length is counted in characters (UTF-8 code points).
inline constexpr std::size_t kPasswordMinLength = 10;
inline constexpr std::size_t kPasswordMaxLength = 256;
// Why `password` may not be used (e.g. "the password must have at least 10 characters"), or
// nullopt when it is acceptable. The message never repeats the password.
std::optional<std::string> password_problem(std::string_view password);
// An Argon2id hash of `password` with a random salt, in the PHC string format
// ("$argon2id$v=19$m=65536,t=2,p=1$..."), at libsodium's "interactive" cost (about 64 MiB and
// tens of milliseconds). Throws std::runtime_error when the memory cannot be allocated.
std::string hash_password(std::string_view password);
// True when `hash` (from hash_password) was made from `password`. False for a malformed hash.
bool verify_password(std::string_view hash, std::string_view password);

// TOTP (RFC 6238): HMAC-SHA1, time steps of 30 seconds from the Unix epoch, 6 digits.
inline constexpr TimeUs kTotpStepUs = 30 * kMicrosPerSecond;
inline constexpr std::size_t kTotpDigits = 6;
inline constexpr std::size_t kTotpSecretBytes = 20;
// A new secret: kTotpSecretBytes random bytes in base32 (32 characters).
std::string generate_totp_secret();
// RFC 4648 base32 (alphabet A-Z, 2-7), upper case, without "=" padding.
std::string base32_encode(std::string_view bytes);
// Decodes base32 in either case, with or without correct "=" padding. Nullopt for any other
// character, an impossible length, or non-zero unused bits in the last character.
std::optional<std::string> base32_decode(std::string_view text);
// The time step that contains `at_us` (floor of at_us / 30 s).
std::int64_t totp_step(TimeUs at_us);
// The 6-digit code (with leading zeros) of `step`. `secret_base32` must decode (base32_decode);
// otherwise throws std::invalid_argument, as that is a programmer's or the database's error.
std::string totp_code(std::string_view secret_base32, std::int64_t step);
// Checks `code` against the steps before, at and after the one containing `now_us` (to allow
// for clocks 30 seconds apart), accepting only steps later than `last_used_step` so that each
// code works once. Returns the accepted step, which the caller stores as the new last used
// step; nullopt when the code is wrong, reused, not 6 digits, or the secret is not base32. Codes
// are compared in constant time.
std::optional<std::int64_t> verify_totp(std::string_view secret_base32, std::string_view code,
                                        TimeUs now_us, std::int64_t last_used_step);
// The otpauth:// URI that authenticator apps read (usually from a QR code):
// otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=ISSUER&algorithm=SHA1&digits=6&period=30,
// with issuer and account percent-encoded.
std::string totp_uri(std::string_view issuer, std::string_view account,
                     std::string_view secret_base32);

}  // namespace pointsmall::auth
