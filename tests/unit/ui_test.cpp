// The web UI's embedded files: each is served whole (its gzip inflates back to it), every file the
// UI loads is registered (a missing one would be a 404 in the browser, found only there), every
// file of src/ui/web is registered, and the whole UI stays within its size budget.
#include "ui/ui.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include "../common/compress.hpp"

namespace logpipe::ui {
namespace {

TEST(UiAssets, EachGzipInflatesToItsBodyAndHasItsOwnEtag) {
  std::set<std::string_view> etags;
  for (const auto& asset : assets()) {
    SCOPED_TRACE(std::string(asset.name));
    EXPECT_FALSE(asset.body.empty());
    EXPECT_EQ(test::gunzipped(asset.gzipped), asset.body);
    EXPECT_TRUE(asset.etag.starts_with('"') && asset.etag.ends_with('"'));
    EXPECT_TRUE(etags.insert(asset.etag).second) << "two files with one ETag";
    EXPECT_FALSE(asset.content_type.empty());
  }
  EXPECT_EQ(find_asset("nothing.js"), nullptr);
  EXPECT_EQ(&shell(), find_asset("index.html"));
}

// The issue's budget: the whole UI, libraries included, at most 150 KB as sent (gzip).
TEST(UiAssets, TheWholeUiIsWithin150KBGzipped) {
  std::size_t total = 0;
  for (const auto& asset : assets())
    total += asset.gzipped.size();
  EXPECT_LE(total, 150U * 1024U) << total << " bytes";
  RecordProperty("gzipped_bytes", static_cast<int>(total));
}

// Every module import ('./x.js', import('./x.js')) and every /ui/assets/ reference in the page
// names a registered file.
TEST(UiAssets, EveryFileTheUiLoadsIsRegistered) {
  const std::regex reference(
      R"((?:from\s*|import\s*\(\s*)['"]\./([\w.-]+)['"]|/ui/assets/([\w.-]+))");
  int references = 0;
  for (const auto& asset : assets()) {
    if (!asset.name.ends_with(".js") && !asset.name.ends_with(".html")) continue;
    const std::string text(asset.body);
    for (std::sregex_iterator it(text.begin(), text.end(), reference), end; it != end; ++it) {
      const std::string name = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
      EXPECT_NE(find_asset(name), nullptr) << asset.name << " loads " << name;
      ++references;
    }
  }
  EXPECT_GT(references, 10);
}

TEST(UiAssets, EveryFileOfTheWebFolderIsRegistered) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(LOGPIPE_UI_WEB)) {
    const std::string name = entry.path().filename().string();
    EXPECT_NE(find_asset(name), nullptr) << name << " is in src/ui/web but not in assets.cpp";
    ++files;
  }
  EXPECT_GT(files, 5);
}

}  // namespace
}  // namespace logpipe::ui
