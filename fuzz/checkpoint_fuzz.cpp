// SPDX-License-Identifier: MIT
// Checkpoint / resume files: fault::read_checksummed on the input as a file, then fault::resume_state.
// Random bytes rarely carry a matching checksum, so the input's JSON is also written back with its
// checksum recomputed (with_checksum): read_checksummed must accept that, and resume_state must either
// accept it or reject it with an ftdla::Error.
#include "fuzz_common.hpp"
#include "ftdla/fault/checkpoint.hpp"

namespace {
void resume(const nlohmann::json& saved, const std::string& path) {
  // The saved configuration as the run's own (so the counts are checked), or a fixed one when absent.
  const nlohmann::json config = saved.is_object() && saved.contains("config") ? saved["config"] : nlohmann::json{{"trials", 100}};
  const ftdla::fault::ResumeState r = ftdla::fault::resume_state(saved, config, 1000, path);
  if (r.counts.trials < 0 || r.counts.trials > 1000 || !(r.seconds >= 0.0))
    ftdla::fuzz::fail("resume_state accepted impossible counts or seconds");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftdla::fault;
  static ftdla::fuzz::MemFile file("checkpoint");
  const std::string& path = file.write(data, size);
  ftdla::fuzz::accepts([&] { resume(read_checksummed(path), path); });

  nlohmann::json j;
  if (!ftdla::fuzz::accepts([&] { j = ftdla::fuzz::parse(data, size); }) || !j.is_object()) return 0;
  const std::string text = with_checksum(j).dump(2) + "\n";
  file.write(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  nlohmann::json saved;
  if (!ftdla::fuzz::accepts([&] { saved = read_checksummed(path); }))
    ftdla::fuzz::fail("read_checksummed rejects a file with_checksum wrote");
  ftdla::fuzz::accepts([&] { resume(saved, path); });
  return 0;
}
