// SPDX-License-Identifier: MIT
// Interruptible, resumable campaigns. Results are written atomically after every block of trials, so an
// interrupt (or a kill) loses at most one block; a resumed run continues from the saved prefix and ends
// with exactly the counts of an uninterrupted run (trial t depends only on the seed and t).
#pragma once
#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "ftdla/fault/campaign.hpp"

namespace ftdla::fault {

nlohmann::json to_json(const CampaignCounts& c);
CampaignCounts counts_from_json(const nlohmann::json& j, const std::string& where);
/// Throws ImportError naming `where` unless 0 <= every count, sdc + masked, faulty_correct and
/// golden_correct <= trials <= `max_trials` (what a saved campaign of `max_trials` trials can hold).
void validate_counts(const CampaignCounts& c, int64_t max_trials, const std::string& where);

/// `j` with a "checksum" key added: FNV-1a 64 of the compact dump of `j` without that key. Every result
/// file a run may resume from carries one.
nlohmann::json with_checksum(nlohmann::json j);
/// Parse a saved result file for resuming. Throws ImportError naming `path` if it is not JSON, has no
/// checksum or its checksum does not match (truncated or edited by hand).
nlohmann::json read_checksummed(const std::string& path);

/// What a resumed campaign continues from.
struct ResumeState {
  CampaignCounts counts;
  double seconds = 0.0;  ///< compute time of the earlier runs
};
/// Check a saved result file (as read_checksummed returns it) for resuming a campaign of `config` and
/// `max_trials` trials. Throws ConfigError if the saved configuration differs, ImportError naming `path` if
/// the counts or compute_seconds are missing, malformed or impossible. run_checkpointed calls it.
ResumeState resume_state(const nlohmann::json& saved, const nlohmann::json& config, int64_t max_trials,
                         const std::string& path);

/// Summary JSON of a campaign: counts, rates with 95% Wilson intervals, throughput.
nlohmann::json summarize(const CampaignCounts& c, double seconds);

struct CheckpointOptions {
  std::string path;             ///< result file (JSON), written atomically; empty = no file
  bool resume = false;          ///< continue the campaign saved in `path`
  nlohmann::json config;        ///< everything that determines the result; must match on resume
  const std::atomic<bool>* stop = nullptr;
  std::function<void(int64_t done, int64_t total)> progress;
  double checkpoint_seconds = 2.0;  ///< write the file at least this often
};

struct CheckpointedResult {
  CampaignCounts counts;
  bool completed = false;
  double seconds = 0.0;  ///< compute time including earlier (resumed) runs
  nlohmann::json json;   ///< what was written
};

/// Run `camp` to spec().trials with checkpoints. On resume, throws ConfigError if the saved
/// configuration differs (the file is left untouched) or ImportError if it cannot be parsed.
CheckpointedResult run_checkpointed(const Campaign& camp, const CheckpointOptions& opt);

}  // namespace ftdla::fault
