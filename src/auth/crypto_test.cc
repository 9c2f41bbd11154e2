// Tests of the credential cryptography (crypto.h): tokens and digests, Argon2id passwords,
// base32 against RFC 4648, and TOTP against the SHA-1 vectors of RFC 6238 appendix B.
#include "auth/crypto.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace pointsmall::auth {
namespace {

// The RFC 6238 test secret "12345678901234567890" in base32.
constexpr std::string_view kRfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

TimeUs at_seconds(std::int64_t seconds) {
  return seconds * kMicrosPerSecond;
}

// ---- Tokens and digests -----------------------------------------------------------------------

TEST(RandomToken, IsUrlSafeBase64WithoutPaddingAndDiffersEachTime) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string token = random_token(32);
    ASSERT_EQ(token.size(), 43U);  // ceil(32 * 4 / 3)
    for (char c : token) {
      const bool url_safe = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_';
      ASSERT_TRUE(url_safe) << token;
    }
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 100U);
  EXPECT_EQ(random_token(24).size(), 32U);
}

TEST(Sha256Hex, MatchesKnownDigests) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ConstantTimeEqual, ComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("123456", "123456"));
  EXPECT_FALSE(constant_time_equal("123456", "123457"));
  EXPECT_FALSE(constant_time_equal("12345", "123456"));
}

TEST(ApiKey, HasThePrefixAndEnoughRandomness) {
  const std::string key = generate_api_key();
  EXPECT_TRUE(key.starts_with("pm_")) << key;
  EXPECT_EQ(key.size(), 3U + 43U);
  EXPECT_NE(generate_api_key(), key);
}

// ---- Passwords --------------------------------------------------------------------------------

TEST(PasswordPolicy, CountsCharactersNotBytes) {
  EXPECT_TRUE(password_problem("").has_value());
  EXPECT_EQ(password_problem("123456789"), "the password must have at least 10 characters");
  EXPECT_EQ(password_problem("1234567890"), std::nullopt);
  EXPECT_EQ(password_problem(std::string(256, 'x')), std::nullopt);
  EXPECT_EQ(password_problem(std::string(257, 'x')),
            "the password must have at most 256 characters");
  std::string accented;
  for (int i = 0; i < 9; ++i) accented += "\xC3\xA9";  // é: two bytes, one character
  EXPECT_TRUE(password_problem(accented).has_value()) << "18 bytes but 9 characters";
  accented += "\xC3\xA9";
  EXPECT_EQ(password_problem(accented), std::nullopt);
}

TEST(PasswordHash, VerifiesTheRightPasswordOnly) {
  const std::string hash = hash_password("correct horse battery");
  EXPECT_TRUE(hash.starts_with("$argon2id$")) << hash;
  EXPECT_EQ(hash.find("correct"), std::string::npos);
  EXPECT_TRUE(verify_password(hash, "correct horse battery"));
  EXPECT_FALSE(verify_password(hash, "correct horse batterY"));
  EXPECT_FALSE(verify_password(hash, ""));
  EXPECT_FALSE(verify_password("", "correct horse battery"));
  EXPECT_FALSE(verify_password("$argon2id$garbage", "correct horse battery"));
  EXPECT_NE(hash_password("correct horse battery"), hash) << "each hash has its own salt";
}

TEST(PasswordHash, HashingAndVerifyingTakeWellUnderHalfASecond) {
  const auto start = std::chrono::steady_clock::now();
  const std::string hash = hash_password("a password to time");
  const auto hashed = std::chrono::steady_clock::now();
  EXPECT_TRUE(verify_password(hash, "a password to time"));
  const auto verified = std::chrono::steady_clock::now();
  EXPECT_LT(hashed - start, std::chrono::milliseconds(500));
  EXPECT_LT(verified - hashed, std::chrono::milliseconds(500));
}

// ---- Base32 -----------------------------------------------------------------------------------

TEST(Base32, MatchesRfc4648TestVectors) {
  const std::vector<std::pair<std::string, std::string>> vectors = {{"", ""},
                                                                    {"f", "MY"},
                                                                    {"fo", "MZXQ"},
                                                                    {"foo", "MZXW6"},
                                                                    {"foob", "MZXW6YQ"},
                                                                    {"fooba", "MZXW6YTB"},
                                                                    {"foobar", "MZXW6YTBOI"}};
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(base32_encode(bytes), text);
    EXPECT_EQ(base32_decode(text), bytes) << text;
  }
  // The RFC writes them padded; padding is accepted when it is exactly right.
  EXPECT_EQ(base32_decode("MY======"), "f");
  EXPECT_EQ(base32_decode("MZXQ===="), "fo");
  EXPECT_EQ(base32_decode("MZXW6==="), "foo");
  EXPECT_EQ(base32_decode("MZXW6YQ="), "foob");
  EXPECT_EQ(base32_decode("MZXW6YTBOI======"), "foobar");
  EXPECT_EQ(base32_decode("mzxw6ytboi"), "foobar");
}

TEST(Base32, RoundTripsEveryLengthAndByte) {
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(base32_decode(base32_encode(bytes)), bytes) << "length " << bytes.size();
    bytes.push_back(static_cast<char>((i * 37 + 11) & 0xFF));
  }
  const std::string secret = generate_totp_secret();
  EXPECT_EQ(secret.size(), 32U);
  EXPECT_EQ(base32_decode(secret).value().size(), kTotpSecretBytes);
}

TEST(Base32, RejectsWhatIsNotBase32) {
  for (const char* text : {"M", "MZX", "MZXW6Y", "MZ", "MY=", "MY=======", "M1", "MY!",
                           "========", "MZXW6YTB========", "MY==MY=="}) {
    EXPECT_EQ(base32_decode(text), std::nullopt) << text;
  }
}

// ---- TOTP -------------------------------------------------------------------------------------

TEST(Totp, MatchesRfc6238Sha1Vectors) {
  const std::vector<std::pair<std::int64_t, std::string>> vectors = {
      {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
      {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (const auto& [seconds, eight_digits] : vectors) {
    const std::int64_t step = totp_step(at_seconds(seconds));
    EXPECT_EQ(step, seconds / 30);
    EXPECT_EQ(totp_code(kRfcSecret, step), eight_digits.substr(2)) << seconds;
    EXPECT_EQ(verify_totp(kRfcSecret, eight_digits.substr(2), at_seconds(seconds), 0), step);
  }
}

TEST(Totp, StepsAreFloorsEvenBeforeTheEpoch) {
  EXPECT_EQ(totp_step(0), 0);
  EXPECT_EQ(totp_step(kTotpStepUs - 1), 0);
  EXPECT_EQ(totp_step(kTotpStepUs), 1);
  EXPECT_EQ(totp_step(-1), -1);
}

TEST(Totp, BadSecretIsAProgrammerError) {
  EXPECT_THROW(totp_code("not base32!", 1), std::invalid_argument);
  EXPECT_EQ(verify_totp("not base32!", "123456", at_seconds(59), 0), std::nullopt);
}

TEST(Totp, AcceptsOneStepOfSkewEitherWayButNotTwo) {
  const std::string secret = generate_totp_secret();
  const TimeUs now_us = at_seconds(1'700'000'000);
  const std::int64_t now = totp_step(now_us);
  for (std::int64_t skew : {-1, 0, 1}) {
    EXPECT_EQ(verify_totp(secret, totp_code(secret, now + skew), now_us, 0), now + skew)
        << "skew " << skew;
  }
  for (std::int64_t skew : {-2, 2}) {
    EXPECT_EQ(verify_totp(secret, totp_code(secret, now + skew), now_us, 0), std::nullopt)
        << "skew " << skew;
  }
}

TEST(Totp, ACodeWorksOnce) {
  const std::string secret = generate_totp_secret();
  const TimeUs now_us = at_seconds(1'700'000'000);
  const std::int64_t now = totp_step(now_us);
  const std::string code = totp_code(secret, now);
  const std::optional<std::int64_t> first = verify_totp(secret, code, now_us, 0);
  ASSERT_EQ(first, now);
  EXPECT_EQ(verify_totp(secret, code, now_us, *first), std::nullopt) << "replayed";
  EXPECT_EQ(verify_totp(secret, code, now_us + kTotpStepUs, *first), std::nullopt)
      << "replayed a step later, still inside the window";
  // After a code of the next step, the previous step's code is refused too.
  EXPECT_EQ(verify_totp(secret, totp_code(secret, now - 1), now_us, now), std::nullopt);
  EXPECT_EQ(verify_totp(secret, totp_code(secret, now + 1), now_us, now), now + 1);
}

TEST(Totp, RejectsMalformedCodes) {
  const std::string secret = generate_totp_secret();
  const TimeUs now_us = at_seconds(1'700'000'000);
  const std::string code = totp_code(secret, totp_step(now_us));
  EXPECT_EQ(verify_totp(secret, code + "0", now_us, 0), std::nullopt);
  EXPECT_EQ(verify_totp(secret, code.substr(1), now_us, 0), std::nullopt);
  EXPECT_EQ(verify_totp(secret, "", now_us, 0), std::nullopt);
  EXPECT_EQ(verify_totp(secret, "12345a", now_us, 0), std::nullopt);
  EXPECT_EQ(verify_totp(secret, " " + code.substr(1), now_us, 0), std::nullopt);
}

TEST(Totp, UriIsWhatAuthenticatorAppsRead) {
  EXPECT_EQ(totp_uri("pointsmall", "alice@example.com", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/pointsmall:alice%40example.com?secret=JBSWY3DPEHPK3PXP"
            "&issuer=pointsmall&algorithm=SHA1&digits=6&period=30");
  EXPECT_EQ(totp_uri("Points Mall", "a:b/c", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Points%20Mall:a%3Ab%2Fc?secret=JBSWY3DPEHPK3PXP"
            "&issuer=Points%20Mall&algorithm=SHA1&digits=6&period=30");
}

}  // namespace
}  // namespace pointsmall::auth
