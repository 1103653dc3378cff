// Runs store::maintain every `interval` on its own thread and PostgreSQL connection, in every
// worker process; the advisory lock inside makes one instance do each round and the others skip
// it. A failed round is logged, counted, and tried again next interval.
#pragma once

#include <chrono>
#include <stop_token>
#include <string>
#include <thread>

#include "metrics/metrics.hpp"
#include "store/maintenance.hpp"

namespace logpipe::worker {

class MaintenanceLoop {
 public:
  MaintenanceLoop(std::string database_url, store::MaintenanceOptions options,
                  std::chrono::milliseconds interval, metrics::Metrics& metrics);
  ~MaintenanceLoop();  // stops and joins
  MaintenanceLoop(const MaintenanceLoop&) = delete;
  MaintenanceLoop& operator=(const MaintenanceLoop&) = delete;

  void start();
  void request_stop();

 private:
  void run(const std::stop_token& stop);

  std::string database_url_;
  store::MaintenanceOptions options_;
  std::chrono::milliseconds interval_;
  metrics::Metrics& metrics_;
  std::jthread thread_;
};

// One round with a connection of its own; logs and counts what it did. For the loop and
// `logpipe maintenance`.
core::Result<store::MaintenanceReport> maintain_once(const std::string& database_url,
                                                     const store::MaintenanceOptions& options,
                                                     metrics::Metrics& metrics);

}  // namespace logpipe::worker
