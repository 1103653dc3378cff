// A private directory for one test's files (certificates, configurations, sockets), removed with
// everything in it when the test ends.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

namespace logpipe::test {

struct TempDir {
  TempDir()
      : path(std::filesystem::temp_directory_path() /
             ("logpipe-test-" + std::to_string(::getpid()) + "-" + std::to_string(next++))) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string file(const std::string& name) const { return (path / name).string(); }

  static inline std::atomic<int> next{0};
  std::filesystem::path path;
};

}  // namespace logpipe::test
