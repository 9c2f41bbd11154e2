#include "app/online_retail.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

namespace pointsmall::online_retail {
namespace {

constexpr std::string_view kHeader =
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n";

using Skipped = std::map<std::string, std::int64_t>;

TimeUs utc(const char* rfc3339) {
  return parse_rfc3339(rfc3339).value();
}

// One CSV row of the data set's shape (country "United Kingdom"). The arguments are the columns
// that matter, in file order; `description` comes last and is written as given (quote it yourself).
std::string row(std::string_view invoice, std::string_view stock_code, std::string_view quantity,
                std::string_view date, std::string_view price, std::string_view customer,
                std::string_view description = "ITEM") {
  std::string text;
  for (std::string_view part :
       {invoice, stock_code, description, quantity, date, price, customer}) {
    text.append(part).push_back(',');
  }
  return text + "United Kingdom\n";
}

std::vector<Purchase> purchases(const Plan& plan) {
  std::vector<Purchase> out;
  for (const Event& event : plan.events) {
    if (event.kind == Event::Kind::purchase) out.push_back(event.purchase);
  }
  return out;
}

std::vector<Refund> refunds(const Plan& plan) {
  std::vector<Refund> out;
  for (const Event& event : plan.events) {
    if (event.kind == Event::Kind::refund) out.push_back(event.refund);
  }
  return out;
}

class OnlineRetailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    zone_ = TimeZone::load("Europe/London");
    ASSERT_NE(zone_, nullptr) << "tzdata is needed (apt-get install tzdata)";
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("online_retail_test_" + std::to_string(getpid()) + "_" + test->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::string write_gzip(const std::string& name, std::string_view content) const {
    const std::string file_path = path(name);
    gzFile file = gzopen(file_path.c_str(), "wb");
    if (file == nullptr) {
      ADD_FAILURE() << "cannot create " << file_path;
      return file_path;
    }
    EXPECT_EQ(gzwrite(file, content.data(), unsigned(content.size())), int(content.size()));
    EXPECT_EQ(gzclose(file), Z_OK);
    return file_path;
  }

  std::string write_plain(const std::string& name, std::string_view content) const {
    const std::string file_path = path(name);
    std::ofstream(file_path, std::ios::binary) << content;
    return file_path;
  }

  // Reads header + `rows` from a fresh gzip file; fails the test when the file is refused.
  Plan read(std::string_view rows, std::string_view header = kHeader) const {
    const std::string file_path =
        write_gzip("data.csv.gz", std::string(header) + std::string(rows));
    Plan plan;
    ReadError error;
    EXPECT_TRUE(read_plan(file_path, *zone_, plan, error)) << error.message;
    return plan;
  }

  // Expects `file_path` to be refused with a message naming the file and containing `words`.
  void expect_refused(const std::string& file_path, std::string_view words) const {
    Plan plan;
    ReadError error;
    EXPECT_FALSE(read_plan(file_path, *zone_, plan, error));
    EXPECT_NE(error.message.find(file_path), std::string::npos) << error.message;
    EXPECT_NE(error.message.find(words), std::string::npos) << error.message;
    EXPECT_TRUE(plan.events.empty());
  }

  std::shared_ptr<const TimeZone> zone_;
  std::filesystem::path dir_;
};

TEST_F(OnlineRetailTest, QuotedDescriptionsKeepCommasAndDoubledQuotes) {
  const Plan plan = read(
      row("536477", "22041", "48", "2010-12-01 12:27:00", "2.10", "16210.0",
          R"("RECORD FRAME 7"" SINGLE SIZE, BLACK")") +
      row("536477", "85071C", "6", "2010-12-01 12:27:00", "2.55", "16210.0",
          R"("CHARLIE+LOLA""EXTREMELY BUSY"" SIGN")") +
      row("536477", "22086", "1", "2010-12-01 12:27:00", "2.95", "16210.0",
          R"("PAPER CHAIN KIT, 50'S")") +
      R"("536477","22087","DOORSTOP, ""RED""",2,2010-12-01 12:27:00,"1.00","16210.0","United Kingdom")"
      "\n" +
      row("536477", "22088", "1", "2010-12-01 12:27:00", "0.01", "16210.0", R"("")") +
      row("536477", "22089", "1", "2010-12-01 12:27:00", "0.02", "16210.0", R"("""")"));

  ASSERT_EQ(purchases(plan).size(), 1u);
  const Purchase purchase = purchases(plan)[0];
  EXPECT_EQ(purchase.order_id, "536477");
  EXPECT_EQ(purchase.customer_id, "16210");
  EXPECT_EQ(purchase.lines, 6);
  EXPECT_EQ(purchase.amount_minor, 48 * 210 + 6 * 255 + 295 + 200 + 1 + 2);
  EXPECT_EQ(plan.rows_read, 6);
  EXPECT_EQ(plan.skipped_rows, Skipped{});
}

TEST_F(OnlineRetailTest, AmountsAreExactPence) {
  const Plan plan = read(row("536001", "22041", "3", "2011-01-03 10:00:00", "2.55", "1.0") +
                         row("536002", "22041", "10", "2011-01-03 10:00:00", "0.29", "1.0") +
                         row("536002", "22086", "1", "2011-01-03 10:00:00", "0.1", "1.0") +
                         row("536002", "85071C", "2", "2011-01-03 10:00:00", "0.010", "1.0") +
                         row("536002", "23254", "12", "2011-01-03 10:00:00", "3", "1.0") +
                         row("536002", "23255", "1", "2011-01-03 10:00:00", "11062.06", "1.0"));

  ASSERT_EQ(purchases(plan).size(), 2u);
  // 3 x 2.55 and 10 x 0.29; in binary floating point 3 * 2.55 is 7.6499999999999995 and 0.29 * 100
  // is 28.999999999999996, which truncate to the wrong pence.
  EXPECT_EQ(purchases(plan)[0].amount_minor, 765);
  EXPECT_EQ(purchases(plan)[1].amount_minor, 290 + 10 + 2 + 3600 + 1106206);
  EXPECT_EQ(plan.skipped_rows, Skipped{});
}

TEST_F(OnlineRetailTest, CustomerIdAndShopLocalTime) {
  const Plan plan = read(row("536591", "22041", "1", "2010-12-01 16:57:00", "1.00", "17850.0") +
                         row("536591", "22086", "1", "2010-12-01 16:58:00", "1.00", "17850.0") +
                         row("555000", "22041", "1", "2011-07-01 10:00:00", "1.00", "17850"));

  ASSERT_EQ(purchases(plan).size(), 2u);
  EXPECT_EQ(purchases(plan)[0].customer_id, "17850");
  EXPECT_EQ(purchases(plan)[0].at_us, utc("2010-12-01T16:57:00Z"));  // GMT; time of the first line
  EXPECT_EQ(purchases(plan)[1].customer_id, "17850");
  EXPECT_EQ(purchases(plan)[1].at_us, utc("2011-07-01T09:00:00Z"));  // BST is UTC+1
  EXPECT_EQ(plan.customers, 1);
}

TEST_F(OnlineRetailTest, GroupsLinesByInvoiceNumberWhereverTheyAre) {
  const Plan plan = read(row("536500", "22041", "1", "2011-01-03 10:00:00", "1.00", "1.0") +
                         row("536501", "22041", "2", "2011-01-03 10:01:00", "1.00", "2.0") +
                         row("536500", "22086", "3", "2011-01-03 10:02:00", "1.00", "1.0"));

  ASSERT_EQ(purchases(plan).size(), 2u);
  EXPECT_EQ(purchases(plan)[0].order_id, "536500");
  EXPECT_EQ(purchases(plan)[0].amount_minor, 400);
  EXPECT_EQ(purchases(plan)[0].lines, 2);
  EXPECT_EQ(purchases(plan)[0].at_us, utc("2011-01-03T10:00:00Z"));
  EXPECT_EQ(purchases(plan)[1].order_id, "536501");
  EXPECT_EQ(purchases(plan)[1].amount_minor, 200);
  EXPECT_EQ(plan.customers, 2);
}

TEST_F(OnlineRetailTest, CountsEverySkippedRowUnderItsReason) {
  const std::string day = "2011-01-03 10:00:00";
  const std::string used = row("536100", "22041", "1", day, "1.00", "1.0");
  // Each row with the reason it must be skipped for; customer 1 bought 22041 in invoice 536100.
  const std::vector<std::pair<std::string, std::string>> skipped = {
      {"536100,22041,ITEM,1,2011-01-03 10:00:00,1.00\n", "unparseable row"},
      {row("536100", "22041", "1", day, "1.00", "1.0", R"("UNTERMINATED, QUOTE)"),
       "unparseable row"},
      {row("536100", "22041", "1", day, "1.00", "1.0", R"(STRAY"QUOTE)"), "unparseable row"},
      {row("536100", "22041", "1", day, "1.00", "1.0", R"("CLOSED"JUNK)"), "unparseable row"},
      {row("536100", "22041", "1", day, "1.00", "1.0", "TOO,MANY COLUMNS"), "unparseable row"},
      {row("536100", "22041", "1.5", day, "1.00", "1.0"), "unparseable row"},
      {row("536100", "22041", "1", day, "1e3", "1.0"), "unparseable row"},
      {row("536100", "22041", "1", day, "£1", "1.0"), "unparseable row"},
      {row("", "22041", "1", day, "1.00", "1.0"), "unparseable row"},
      {row("536100", "22041", "1", "2011-02-30 10:00:00", "1.00", "1.0"), "bad date"},
      {row("536100", "22041", "1", "03/01/2011 10:00", "1.00", "1.0"), "bad date"},
      {row("536100", "PADS", "1", day, "0.001", "1.0"), "sub-penny price"},
      {row("536100", "22041", "1", day, "1.00", ""), "missing customer"},
      {row("536100", "22041", "1", day, "1.00", "17850.5"), "bad customer id"},
      {row("536100", "22041", "1", day, "1.00", "abc"), "bad customer id"},
      {row("536100", "POST", "1", day, "18.00", "1.0"), "non-product adjustment code"},
      {row("536100", "M", "1", day, "5.00", "1.0"), "non-product adjustment code"},
      {row("536100", "BANK CHARGES", "1", day, "15.00", "1.0"), "non-product adjustment code"},
      {row("536100", "gift_0001_20", "1", day, "20.00", "1.0"), "non-product adjustment code"},
      {row("536100", "22041", "1", day, "0.00", "1.0"), "zero or negative price"},
      {row("536100", "22041", "1", day, "-5.00", "1.0"), "zero or negative price"},
      {row("536100", "22041", "0", day, "1.00", "1.0"), "zero quantity"},
      {row("536100", "22041", "-2", day, "1.00", "1.0"),
       "negative quantity outside a cancellation"},
      {row("C536101", "22041", "2", day, "1.00", "1.0"), "positive quantity in a cancellation"},
      {row("536100", "22041", "2000000000", day, "1.00", "1.0"), "amount out of range"},
      {row("536100", "22041", "1000000", day, "999999999.99", "1.0"), "amount out of range"},
      {row("536100", "22086", "1", day, "1.00", "2.0"), "customer differs within invoice"},
      {row("C536102", "90214Z", "-1", day, "1.00", "1.0"),
       "cancellation without an earlier purchase"},
  };
  std::string rows = used;
  Skipped expected;
  for (const auto& [text, reason] : skipped) {
    rows += text;
    ++expected[reason];
  }

  const Plan plan = read(rows);

  EXPECT_EQ(plan.rows_read, std::int64_t(skipped.size()) + 1);
  EXPECT_EQ(plan.skipped_rows, expected);
  EXPECT_EQ(expected.size(), 13u);  // every reason but the capped refund, which has its own test
  ASSERT_EQ(purchases(plan).size(), 1u);
  EXPECT_EQ(purchases(plan)[0].amount_minor, 100);
  EXPECT_TRUE(refunds(plan).empty());
}

TEST_F(OnlineRetailTest, SubPennyDigitsThatAreZerosAreFine) {
  const Plan plan = read(row("536100", "22041", "4", "2011-01-03 10:00:00", "0.2500", "1.0") +
                         row("536100", "22086", "1000", "2011-01-03 10:00:00", "0.001", "1.0") +
                         row("536100", "85071C", "1", "2011-01-03 10:00:00", "1.999", "1.0"));

  ASSERT_EQ(purchases(plan).size(), 1u);
  EXPECT_EQ(purchases(plan)[0].amount_minor,
            100);  // 1000 x 0.001 would be one pound, but is refused
  EXPECT_EQ(plan.skipped_rows, (Skipped{{"sub-penny price", 2}}));
}

TEST_F(OnlineRetailTest, CancellationRefundsTheMostRecentEarlierOrderWithTheStockCode) {
  const Plan plan = read(row("536100", "22041", "2", "2011-01-03 10:00:00", "1.00", "12345.0") +
                         row("536200", "22086", "1", "2011-01-04 10:00:00", "5.00", "12345.0") +
                         row("536300", "22041", "1", "2011-01-05 10:00:00", "1.00", "12345.0") +
                         row("536300", "22086", "1", "2011-01-05 10:00:00", "1.00", "12345.0") +
                         row("536350", "22041", "5", "2011-01-05 11:00:00", "1.00", "99999.0") +
                         row("C536400", "22041", "-1", "2011-01-06 10:00:00", "1.00", "12345.0") +
                         row("536500", "22041", "10", "2011-01-07 10:00:00", "1.00", "12345.0"));

  const std::vector<Refund> found = refunds(plan);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].customer_id, "12345");
  EXPECT_EQ(found[0].order_id, "536300");
  EXPECT_EQ(found[0].cancellation_id, "C536400");
  EXPECT_EQ(found[0].at_us, utc("2011-01-06T10:00:00Z"));
  EXPECT_EQ(found[0].amount_minor, 100);
  EXPECT_EQ(plan.skipped_rows, Skipped{});
}

TEST_F(OnlineRetailTest, CancellationSkipsARecentOrderThatCannotCoverTheLine) {
  const Plan plan = read(row("536100", "22041", "10", "2011-01-03 10:00:00", "1.00", "1.0") +
                         row("536200", "22041", "1", "2011-01-04 10:00:00", "1.00", "1.0") +
                         row("C536300", "22041", "-5", "2011-01-05 10:00:00", "1.00", "1.0"));

  ASSERT_EQ(refunds(plan).size(), 1u);
  EXPECT_EQ(refunds(plan)[0].order_id, "536100");
  EXPECT_EQ(refunds(plan)[0].amount_minor, 500);
}

TEST_F(OnlineRetailTest, CancellationAtTheSameTimeAsItsOrderCountsAsLater) {
  const Plan plan = read(row("C536101", "22041", "-1", "2011-01-03 10:00:00", "2.00", "1.0") +
                         row("536100", "22041", "1", "2011-01-03 10:00:00", "2.00", "1.0"));

  ASSERT_EQ(plan.events.size(), 2u);
  EXPECT_EQ(plan.events[0].kind, Event::Kind::purchase);  // although later in the file
  EXPECT_EQ(plan.events[1].kind, Event::Kind::refund);
  EXPECT_EQ(plan.events[1].refund.order_id, "536100");
}

TEST_F(OnlineRetailTest, CancellationWithoutAnEarlierPurchaseIsSkipped) {
  const Plan plan = read(row("C536100", "22041", "-1", "2011-01-03 10:00:00", "1.00", "1.0") +
                         row("536200", "22041", "1", "2011-01-03 11:00:00", "1.00", "1.0") +
                         row("536300", "22086", "1", "2011-01-02 11:00:00", "1.00", "1.0") +
                         row("536400", "22041", "1", "2011-01-02 11:00:00", "1.00", "2.0"));

  EXPECT_TRUE(refunds(plan).empty());  // later order, other stock code, other customer
  EXPECT_EQ(plan.skipped_rows, (Skipped{{"cancellation without an earlier purchase", 1}}));
}

TEST_F(OnlineRetailTest, RefundsNeverExceedTheOrderAmount) {
  const Plan plan = read(row("536100", "22041", "1", "2011-01-03 10:00:00", "5.00", "1.0") +
                         row("C536200", "22041", "-3", "2011-01-04 10:00:00", "5.00", "1.0") +
                         row("C536300", "22041", "-1", "2011-01-05 10:00:00", "5.00", "1.0"));

  ASSERT_EQ(refunds(plan).size(), 1u);
  EXPECT_EQ(refunds(plan)[0].cancellation_id, "C536200");
  EXPECT_EQ(refunds(plan)[0].amount_minor, 500);
  EXPECT_EQ(plan.skipped_rows, (Skipped{{"cancellation capped at what is left of its order", 1},
                                        {"cancellation without an earlier purchase", 1}}));
}

TEST_F(OnlineRetailTest, OneRefundPerCancellationAndOrder) {
  const Plan plan = read(row("536100", "22041", "1", "2011-01-03 10:00:00", "1.00", "1.0") +
                         row("536100", "22086", "1", "2011-01-03 10:00:00", "2.00", "1.0") +
                         row("536200", "85071C", "1", "2011-01-04 10:00:00", "3.00", "1.0") +
                         row("C536300", "22041", "-1", "2011-01-05 10:00:00", "1.00", "1.0") +
                         row("C536300", "85071C", "-1", "2011-01-05 10:00:00", "3.00", "1.0") +
                         row("C536300", "22086", "-1", "2011-01-05 10:00:00", "2.00", "1.0"));

  const std::vector<Refund> found = refunds(plan);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].order_id, "536100");
  EXPECT_EQ(found[0].amount_minor, 300);
  EXPECT_EQ(found[1].order_id, "536200");
  EXPECT_EQ(found[1].amount_minor, 300);
  for (const Refund& refund : found) EXPECT_EQ(refund.cancellation_id, "C536300");
}

TEST_F(OnlineRetailTest, EventsAreInTimeOrder) {
  const Plan plan = read(row("536300", "22041", "1", "2011-01-05 10:00:00", "1.00", "1.0") +
                         row("536100", "22041", "1", "2011-01-03 10:00:00", "1.00", "2.0") +
                         row("C536400", "22041", "-1", "2011-01-04 10:00:00", "1.00", "2.0") +
                         row("536200", "22041", "1", "2011-01-04 10:00:00", "1.00", "3.0"));

  std::vector<std::string> order;
  for (const Event& event : plan.events) {
    order.push_back(event.kind == Event::Kind::purchase ? event.purchase.order_id
                                                        : event.refund.cancellation_id);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"536100", "536200", "C536400", "536300"}));
}

TEST_F(OnlineRetailTest, AcceptsCrlfAByteOrderMarkAndNoFinalNewline) {
  const std::string header(kHeader.substr(0, kHeader.size() - 1));
  const Plan plan = read(
      "536100,22041,ITEM,1,2011-01-03 10:00:00,1.00,1.0,United Kingdom\r\n"
      "536100,22086,ITEM,2,2011-01-03 10:00:00,1.00,1.0,United Kingdom",
      "\xEF\xBB\xBF" + header + "\r\n");

  ASSERT_EQ(purchases(plan).size(), 1u);
  EXPECT_EQ(purchases(plan)[0].amount_minor, 300);
  EXPECT_EQ(plan.rows_read, 2);
}

TEST_F(OnlineRetailTest, OverlongLinesAreUnparseableRows) {
  // Lines over the 64 KiB limit, both within one read buffer and longer than a whole buffer.
  for (const std::size_t length : {100'000u, 1'000'000u}) {
    const std::string description(length, 'x');
    const Plan plan =
        read(row("536100", "22041", "1", "2011-01-03 10:00:00", "1.00", "1.0", description) +
             row("536100", "22086", "1", "2011-01-03 10:00:00", "1.00", "1.0") +
             row("536100", "23254", "1", "2011-01-03 10:00:00", "1.00", "1.0", description) +
             row("536100", "23255", "2", "2011-01-03 10:00:00", "1.00", "1.0"));

    EXPECT_EQ(plan.rows_read, 4);
    EXPECT_EQ(plan.skipped_rows, (Skipped{{"unparseable row", 2}}));
    ASSERT_EQ(purchases(plan).size(), 1u);
    EXPECT_EQ(purchases(plan)[0].lines, 2);
    EXPECT_EQ(purchases(plan)[0].amount_minor, 300);
  }
}

TEST_F(OnlineRetailTest, RefusesAMissingFile) {
  expect_refused(path("absent.csv.gz"), "cannot open");
}

TEST_F(OnlineRetailTest, RefusesAFileThatIsNotGzip) {
  expect_refused(
      write_plain("plain.csv",
                  std::string(kHeader) + row("1", "22041", "1", "2011-01-03 10:00:00", "1", "1")),
      "not a gzip file");
}

TEST_F(OnlineRetailTest, RefusesATruncatedGzipFile) {
  std::string content(kHeader);
  for (int i = 0; i < 5000; ++i)
    content += row(std::to_string(536000 + i), "22041", "1", "2011-01-03 10:00:00", "1.00", "1.0");
  const std::string file_path = write_gzip("truncated.csv.gz", content);
  std::filesystem::resize_file(file_path, std::filesystem::file_size(file_path) / 2);
  expect_refused(file_path, "truncated gzip file");
}

TEST_F(OnlineRetailTest, RefusesAWrongHeader) {
  expect_refused(
      write_gzip("wrong.csv.gz",
                 "Invoice,StockCode\n" + row("1", "22041", "1", "2011-01-03 10:00:00", "1", "1")),
      "unexpected header line");
  expect_refused(write_gzip("empty.csv.gz", ""), "no header line");
}

// Figures computed independently from the file: Python (csv, decimal, zoneinfo) for all of them and
// awk for the purchase totals. See the rules at the top of online_retail.cc.
TEST_F(OnlineRetailTest, ReadsTheWholeDataSet) {
  const std::string file_path = POINTSMALL_SOURCE_DIR "/data/online_retail.csv.gz";
  const auto file_bytes = std::int64_t(std::filesystem::file_size(file_path));
  std::vector<std::int64_t> progress;
  Plan plan;
  ReadError error;
  ASSERT_TRUE(read_plan(file_path, *zone_, plan, error, [&](std::int64_t done, std::int64_t total) {
    EXPECT_EQ(total, file_bytes);
    progress.push_back(done);
  })) << error.message;

  EXPECT_EQ(plan.rows_read, 541'909);
  EXPECT_EQ(plan.customers, 4'334);
  EXPECT_EQ(plan.skipped_rows, (Skipped{{"missing customer", 135'080},
                                        {"non-product adjustment code", 1'915},
                                        {"zero or negative price", 34},
                                        {"sub-penny price", 4},
                                        {"cancellation without an earlier purchase", 1'039},
                                        {"cancellation capped at what is left of its order", 2}}));
  const std::vector<Purchase> all_purchases = purchases(plan);
  const std::vector<Refund> all_refunds = refunds(plan);
  EXPECT_EQ(all_purchases.size(), 18'402u);
  EXPECT_EQ(all_refunds.size(), 3'722u);
  const auto sum = [](const auto& items, auto member) {
    return std::accumulate(
        items.begin(), items.end(), std::int64_t{0},
        [&](std::int64_t total, const auto& item) { return total + item.*member; });
  };
  EXPECT_EQ(sum(all_purchases, &Purchase::amount_minor), 876'106'665);
  EXPECT_EQ(sum(all_purchases, &Purchase::lines), 396'337);
  EXPECT_EQ(sum(all_refunds, &Refund::amount_minor), 45'191'528);

  const Purchase& first = all_purchases.front();
  EXPECT_EQ(first.order_id, "536365");
  EXPECT_EQ(first.customer_id, "17850");
  EXPECT_EQ(first.at_us, utc("2010-12-01T08:26:00Z"));
  EXPECT_EQ(first.amount_minor, 13'912);
  EXPECT_EQ(first.lines, 7);
  // The largest order (80,995 x 2.08) was cancelled in full minutes later.
  const auto largest = std::find_if(all_refunds.begin(), all_refunds.end(),
                                    [](const Refund& r) { return r.cancellation_id == "C581484"; });
  ASSERT_NE(largest, all_refunds.end());
  EXPECT_EQ(largest->order_id, "581483");
  EXPECT_EQ(largest->amount_minor, 16'846'960);

  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), file_bytes);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_LE(std::int64_t(progress.size()), file_bytes / (64 * 1024) + 2);
}

// Whatever the data, each refund follows a purchase of the same customer with the same order id,
// events are in time order, and no order is refunded more than its amount.
TEST_F(OnlineRetailTest, DataSetRefundsFollowTheirOrdersAndNeverExceedThem) {
  Plan plan;
  ReadError error;
  ASSERT_TRUE(read_plan(POINTSMALL_SOURCE_DIR "/data/online_retail.csv.gz", *zone_, plan, error))
      << error.message;

  std::map<std::string, std::pair<std::string, MinorUnits>> left;  // order -> customer, amount left
  TimeUs previous_us = 0;
  for (const Event& event : plan.events) {
    if (event.kind == Event::Kind::purchase) {
      EXPECT_GE(event.purchase.at_us, previous_us);
      previous_us = event.purchase.at_us;
      left[event.purchase.order_id] = {event.purchase.customer_id, event.purchase.amount_minor};
      continue;
    }
    const Refund& refund = event.refund;
    EXPECT_GE(refund.at_us, previous_us);
    previous_us = refund.at_us;
    const auto order = left.find(refund.order_id);
    ASSERT_NE(order, left.end()) << refund.cancellation_id;
    EXPECT_EQ(order->second.first, refund.customer_id);
    EXPECT_GT(refund.amount_minor, 0);
    order->second.second -= refund.amount_minor;
    EXPECT_GE(order->second.second, 0) << refund.order_id;
  }
}

// ---- Moving the year so that it ends yesterday ------------------------------------------------

TEST(CivilDays, CountFromTheEpochAndBack) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  for (std::int64_t day : {-800000, -1, 0, 59, 60, 11016, 20000, 2932896}) {
    const CivilTime civil = civil_from_days(day);
    EXPECT_EQ(days_from_civil(civil.year, civil.month, civil.day), day) << day;
  }
  EXPECT_EQ(civil_from_days(days_from_civil(2024, 2, 28) + 1), (CivilTime{2024, 2, 29}));
  EXPECT_EQ(civil_from_days(days_from_civil(2026, 12, 31) + 1), (CivilTime{2027, 1, 1}));
}

Event purchase_at(TimeUs at_us, std::string order_id) {
  Event event;
  event.purchase.order_id = std::move(order_id);
  event.purchase.at_us = at_us;
  return event;
}

TEST(ShiftToEndYesterday, TheLastDayBecomesYesterdayAndLocalTimesOfDayStay) {
  const auto london = TimeZone::load("Europe/London");
  Plan plan;
  // 10:00 in winter (GMT) and 10:00 in summer (BST, 09:00 UTC), then the last day, in 2011.
  plan.events.push_back(purchase_at(utc("2011-01-10T10:00:00Z"), "a"));
  plan.events.push_back(purchase_at(utc("2011-07-01T09:00:00Z"), "b"));
  Event refund;
  refund.kind = Event::Kind::refund;
  refund.refund.at_us = utc("2011-12-09T12:50:00.25Z");
  plan.events.push_back(refund);
  const TimeUs now = utc("2026-11-23T08:00:00Z");
  const std::int64_t days = shift_to_end_yesterday(plan, now, *london);
  EXPECT_EQ(days, days_from_civil(2026, 11, 22) - days_from_civil(2011, 12, 9));
  EXPECT_EQ(format_local_date(*london, plan.events[2].refund.at_us), "2026-11-22");
  EXPECT_EQ(plan.events[2].refund.at_us, utc("2026-11-22T12:50:00.25Z"));
  // Each keeps its local time of day, whatever the clocks did.
  EXPECT_EQ(london->to_local(plan.events[0].purchase.at_us).hour, 10);
  EXPECT_EQ(london->to_local(plan.events[1].purchase.at_us).hour, 10);
  EXPECT_EQ(format_local_date(*london, plan.events[0].purchase.at_us), "2025-12-24");
  // Running it again the same day moves nothing.
  EXPECT_EQ(shift_to_end_yesterday(plan, now, *london), 0);
  Plan empty;
  EXPECT_EQ(shift_to_end_yesterday(empty, now, *london), 0);
}

}  // namespace
}  // namespace pointsmall::online_retail
