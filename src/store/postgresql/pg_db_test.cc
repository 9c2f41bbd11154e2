#include "store/postgresql/pg_db.h"

#include <gtest/gtest.h>

namespace pointsmall::store::pg {
namespace {

TEST(PgRedact, HidesThePasswordOfAUrlOrAKeywordString) {
  EXPECT_EQ(redact("postgresql://shop:s3cret@db.example:5432/points"),
            "postgresql://shop:***@db.example:5432/points");
  EXPECT_EQ(redact("postgresql://shop@db.example/points?password=s3cret&sslmode=require"),
            "postgresql://shop@db.example/points?password=***&sslmode=require");
  EXPECT_EQ(redact("host=db user=shop password = 'a b c' dbname=points"),
            "host=db user=shop password = *** dbname=points");
  EXPECT_EQ(redact("host=db password=s3cret"), "host=db password=***");
  EXPECT_EQ(redact("postgresql://shop@db.example/points"), "postgresql://shop@db.example/points");
  EXPECT_EQ(redact("postgresql://db.example:5432/points"), "postgresql://db.example:5432/points");
}

TEST(PgRowBuffer, ArrayLiteralsQuoteEveryValue) {
  EXPECT_EQ(array_literal(std::vector<std::string>{"a", "b\"c", "d\\e", ""}),
            R"({"a","b\"c","d\\e",""})");
  EXPECT_EQ(array_literal(std::vector<std::int64_t>{1, -2, 30}), "{1,-2,30}");
}

}  // namespace
}  // namespace pointsmall::store::pg
