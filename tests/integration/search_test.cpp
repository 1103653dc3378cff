// GET /api/v1/logs against a model of the data kept in the test: random filter combinations,
// keyset paging under concurrent inserts, and bad parameters.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "core/time.hpp"
#include "harness.hpp"
#include "http/query_string.hpp"

namespace logpipe::test {
namespace {

struct Rec {
  int n;  // unique, also the token "rec<n>" in the message
  core::Micros ts;
  std::string device, service, app, host, level;
  std::vector<std::string> words;
  int k;            // attrs.k
  std::string sub;  // attrs.nested.x
};

const std::vector<std::string> kDevices{"dev-a", "dev-b", "dev-c", "dev-d", "dev-e"};
const std::vector<std::string> kServices{"api", "db", "web", "auth"};
const std::vector<std::string> kApps{"shop", "blog", "crm"};
const std::vector<std::string> kHosts{"h1", "h2", "h3"};
const std::vector<std::string> kLevels{"TRACE",   "DEBUG", "INFO",     "NOTICE",
                                       "WARNING", "ERROR", "CRITICAL", "FATAL"};
const std::vector<std::string> kWords{"disk", "full", "timeout", "user", "login", "retry"};

int level_rank(const std::string& level) {
  return static_cast<int>(std::find(kLevels.begin(), kLevels.end(), level) - kLevels.begin());
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string message_of(const Rec& r) {
  std::string m = "rec" + std::to_string(r.n);
  for (const auto& w : r.words)
    m += " " + w;
  return m;
}

std::string ndjson(const std::vector<Rec>& recs) {
  std::string body;
  for (const auto& r : recs) {
    body += R"({"ts":")" + core::format_rfc3339(r.ts) + R"(","message":")" + message_of(r) +
            R"(","device_id":")" + r.device + R"(","service":")" + r.service + R"(","app":")" +
            r.app + R"(","host":")" + r.host + R"(","level":")" + r.level + R"(","attrs":{"k":)" +
            std::to_string(r.k) + R"(,"nested":{"x":")" + r.sub + "\"}}}\n";
  }
  return body;
}

void ingest(unsigned short port, const std::vector<Rec>& recs) {
  for (std::size_t i = 0; i < recs.size(); i += 200) {
    const auto body = ndjson({recs.begin() + static_cast<long>(i),
                              recs.begin() + static_cast<long>(std::min(recs.size(), i + 200))});
    ASSERT_EQ(ingest_ndjson(port, body).status, 202);
  }
}

// A filter as query parameters and as a predicate over the model.
struct Filter {
  std::vector<std::pair<std::string, std::string>> params;
  std::function<bool(const Rec&)> match = [](const Rec&) { return true; };
  void add(std::string key, std::string value, std::function<bool(const Rec&)> also) {
    params.emplace_back(std::move(key), std::move(value));
    match = [prev = match, also = std::move(also)](const Rec& r) { return prev(r) && also(r); };
  }
  std::string target(const std::string& extra = "") const {
    std::string t = "/api/v1/logs?limit=1000";
    for (const auto& [k, v] : params) {
      std::string escaped;
      for (const char c : v)
        escaped += c == ' '   ? std::string("%20")
                   : c == '"' ? std::string("%22")
                              : std::string(1, c);
      t += "&" + k + "=" + escaped;
    }
    return t + extra;
  }
};

// The rec numbers of an answer, in order; next_cursor through `cursor`.
std::vector<int> answer_numbers(const HttpResponse& r, std::string* cursor = nullptr) {
  std::vector<int> out;
  simdjson::dom::parser parser;
  auto doc = parse_json(parser, r.body);
  for (auto log : doc["logs"].get_array()) {
    const std::string_view message = log["message"].get_string();
    out.push_back(std::stoi(std::string(message.substr(3, message.find(' ') - 3))));
  }
  if (cursor) {
    auto next = doc["next_cursor"];
    *cursor = next.is_null() ? "" : std::string(std::string_view(next.get_string()));
  }
  return out;
}

// What a walk through the pages got wrong, beyond gtest's first 32 elements: the rows it
// missed, the rows it saw twice, and where the order first went astray.
std::string paging_difference(const std::vector<int>& seen, const std::vector<int>& want) {
  std::multiset<int> seen_set(seen.begin(), seen.end());
  std::set<int> want_set(want.begin(), want.end());
  std::string out = "missed:";
  for (const int n : want)
    if (!seen_set.count(n)) out += " " + std::to_string(n);
  out += "; seen twice:";
  for (const int n : want_set)
    if (seen_set.count(n) > 1) out += " " + std::to_string(n);
  out += "; not wanted:";
  for (const int n : seen_set)
    if (!want_set.count(n)) out += " " + std::to_string(n);
  const auto at = std::mismatch(seen.begin(), seen.end(), want.begin(), want.end()).first;
  out += "; first difference at position " + std::to_string(at - seen.begin());
  return out;
}

class Search : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
    lp.emplace(LogpipeOptions{.database_url = db.url(), .stream = unique_tag("search")});
    std::mt19937 rng(7);
    const core::Micros start = core::now_micros() - 3LL * 86'400'000'000;
    for (int n = 0; n < 600; ++n) {
      Rec r;
      r.n = n;
      r.ts = start + n * 431'000'000LL;  // ~7 minutes apart over 3 days, all distinct
      r.device = kDevices[rng() % kDevices.size()];
      r.service = kServices[rng() % kServices.size()];
      r.app = kApps[rng() % kApps.size()];
      r.host = kHosts[rng() % kHosts.size()];
      r.level = kLevels[rng() % kLevels.size()];
      for (const auto& w : kWords) {
        if (rng() % 3 == 0) r.words.push_back(w);
      }
      r.k = static_cast<int>(rng() % 5);
      r.sub = "v" + std::to_string(rng() % 3);
      recs.push_back(r);
    }
    ingest(lp->port(), recs);
    ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 600; }, 30s));
  }

  // The model's answer, newest first (or oldest first).
  std::vector<int> expected(const Filter& f, bool ascending = false) const {
    std::vector<const Rec*> hits;
    for (const auto& r : recs) {
      if (f.match(r)) hits.push_back(&r);
    }
    std::sort(hits.begin(), hits.end(), [&](const Rec* a, const Rec* b) {
      return ascending ? a->ts < b->ts : a->ts > b->ts;
    });
    std::vector<int> out;
    for (const auto* r : hits)
      out.push_back(r->n);
    return out;
  }

  TestDatabase db{"search"};
  std::optional<Logpipe> lp;
  std::vector<Rec> recs;
};

TEST_F(Search, RandomFilterCombinationsMatchTheModel) {
  std::mt19937 rng(11);
  const core::Micros now = core::now_micros();
  int answered = 0;  // combinations with a non-empty answer: the comparison must bite
  for (int i = 0; i < 250; ++i) {
    Filter f;
    const auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
    if (rng() % 3 == 0) {
      const auto d = pick(kDevices);
      f.add("device_id", d, [d](const Rec& r) { return r.device == d; });
    }
    if (rng() % 3 == 0) {
      const auto s = pick(kServices);
      f.add("service", s, [s](const Rec& r) { return r.service == s; });
    }
    if (rng() % 4 == 0) {
      const auto a = pick(kApps);
      f.add("app", a, [a](const Rec& r) { return r.app == a; });
    }
    if (rng() % 4 == 0) {
      const auto h = pick(kHosts);
      f.add("host", h, [h](const Rec& r) { return r.host == h; });
    }
    switch (rng() % 4) {
      case 0: {
        const auto l1 = pick(kLevels), l2 = pick(kLevels);
        f.add("level", lower(l1),
              [l1, l2](const Rec& r) { return r.level == l1 || r.level == l2; });
        f.params.emplace_back("level", l2);
        break;
      }
      case 1: {
        const auto m = pick(kLevels);
        f.add("min_level", m, [m](const Rec& r) { return level_rank(r.level) >= level_rank(m); });
        break;
      }
      default:
        break;
    }
    std::optional<core::Micros> from, to;
    if (rng() % 3 == 0) {
      from = recs[rng() % recs.size()].ts;
      f.add("from", core::format_rfc3339(*from), [t = *from](const Rec& r) { return r.ts >= t; });
    }
    if (rng() % 4 == 0) {
      const int hours = 1 + static_cast<int>(rng() % 60);
      to = now - hours * 3'600'000'000LL;
      f.add("to", std::to_string(hours) + "h", [t = *to](const Rec& r) { return r.ts < t; });
    }
    if (rng() % 3 == 0) {
      const auto w = pick(kWords);
      const std::string upper_first =
          std::string(1, static_cast<char>(std::toupper(w[0]))) + w.substr(1);
      f.add("q", upper_first, [w](const Rec& r) {
        return std::find(r.words.begin(), r.words.end(), w) != r.words.end();
      });
    }
    if (rng() % 5 == 0) {
      const int k = static_cast<int>(rng() % 5);
      f.add("attrs.k", std::to_string(k), [k](const Rec& r) { return r.k == k; });
    }
    if (rng() % 5 == 0) {
      const std::string v = "v" + std::to_string(rng() % 3);
      f.add("attrs.nested.x", v, [v](const Rec& r) { return r.sub == v; });
    }
    const bool ascending = rng() % 4 == 0;
    const auto r = get(lp->port(), f.target(ascending ? "&order=asc" : ""));
    if (from && to && *from > *to) {
      EXPECT_EQ(r.status, 422) << f.target() << "\n" << r.body;
      continue;
    }
    ASSERT_EQ(r.status, 200) << f.target() << "\n" << r.body;
    const auto want = expected(f, ascending);
    EXPECT_EQ(answer_numbers(r), want) << f.target();
    answered += want.empty() ? 0 : 1;
  }
  EXPECT_GT(answered, 150);
}

TEST_F(Search, PhrasesMatchWordsInOrder) {
  Filter f;
  f.add("q", "\"disk full\"", [](const Rec& r) {
    const auto m = message_of(r);
    return m.find("disk full") != std::string::npos;
  });
  const auto r = get(lp->port(), f.target());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(answer_numbers(r), expected(f));
  EXPECT_FALSE(expected(f).empty());
}

// Pages of 7 walk every row that existed when paging began exactly once, while new rows (newer
// and older than the cursor) arrive in between.
TEST_F(Search, KeysetPagingVisitsEveryRowOnceUnderConcurrentInserts) {
  Filter f;
  f.add("service", "api", [](const Rec& r) { return r.service == "api"; });
  const auto want = expected(f);
  ASSERT_GT(want.size(), 100u);  // many pages
  std::vector<int> seen;
  std::string cursor;
  std::string transcript;
  int late = 1000;
  for (int page = 0; page < 200; ++page) {
    const auto r = get(lp->port(), "/api/v1/logs?service=api&limit=7" +
                                       (cursor.empty() ? "" : "&cursor=" + cursor));
    ASSERT_EQ(r.status, 200) << r.body;
    transcript += "\npage " + std::to_string(page) + " after " + cursor + ":";
    for (const int n : answer_numbers(r, &cursor)) {
      transcript += " " + std::to_string(n);
      if (n < 1000) seen.push_back(n);
    }
    if (cursor.empty()) break;
    // Interleave inserts: one newer than everything, one in the middle of the range.
    Rec newer = recs.front();
    newer.n = late++;
    newer.service = "api";
    newer.ts = core::now_micros();
    Rec middle = newer;
    middle.n = late++;
    middle.ts = recs[300].ts + 1;
    ingest(lp->port(), {newer, middle});
  }
  EXPECT_EQ(seen, want) << paging_difference(seen, want) << transcript << "\n"
                        << lp->process().output();
}

TEST_F(Search, FilterAliasNamesTheRangeStartTimeAndEndTime) {
  const core::Micros from = recs[100].ts, to = recs[400].ts;
  Filter f;
  f.add("level", "ERROR", [](const Rec& r) { return r.level == "ERROR"; });
  f.add("service", "db", [](const Rec& r) { return r.service == "db"; });
  f.match = [prev = f.match, from, to](const Rec& r) {
    return prev(r) && r.ts >= from && r.ts < to;
  };
  const auto r = get(lp->port(), "/api/v1/logs/filter?level=ERROR&service=db&start_time=" +
                                     core::format_rfc3339(from) +
                                     "&end_time=" + core::format_rfc3339(to) + "&limit=1000");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(answer_numbers(r), expected(f));
  EXPECT_FALSE(expected(f).empty());
}

TEST_F(Search, BadParametersAre422NamingTheParameter) {
  const auto expect_field = [&](const std::string& query, const std::string& field) {
    const auto r = get(lp->port(), "/api/v1/logs?" + query);
    EXPECT_EQ(r.status, 422) << query << " " << r.body;
    EXPECT_NE(r.body.find("\"field\":\"" + field + "\""), std::string::npos)
        << query << " " << r.body;
  };
  expect_field("level=LOUD", "level");
  expect_field("min_level=nope", "min_level");
  expect_field("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from");
  expect_field("from=yesterday", "from");
  expect_field("cursor=!!!", "cursor");
  expect_field("cursor=bm90LWEtY3Vyc29y", "cursor");
  expect_field("limit=0", "limit");
  expect_field("limit=1001", "limit");
  expect_field("order=sideways", "order");
  expect_field("devce_id=dev-a", "devce_id");
  expect_field("q=%22unterminated", "q");
  expect_field("attrs..x=1", "attrs..x");
  expect_field("service=a&service=b", "service");
  expect_field("level=ERROR&min_level=FATAL&level=INFO&min_level=CRITICAL", "min_level");
}

}  // namespace
}  // namespace logpipe::test
