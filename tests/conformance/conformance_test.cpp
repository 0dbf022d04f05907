// ONNX backend node test cases (tests/fixtures/conformance/, written by tools/make_conformance.py) run
// through the float engine, as `ftdla run` runs them: import, one image of the batch at a time, the final
// Softmax/LogSoftmax applied. applicable.txt lists the cases that must pass, not_applicable.txt the others
// with the reason; every case directory must be in exactly one of them, and a not-applicable case that
// starts passing fails too, so neither list can go stale.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ftdla/core/atomic_file.hpp"
#include "ftdla/core/error.hpp"
#include "ftdla/data/tensor_io.hpp"
#include "ftdla/model/float_engine.hpp"
#include "ftdla/model/onnx_import.hpp"
#include "onnx/onnx_pb.h"

namespace ftdla {
namespace {

namespace fs = std::filesystem;

const std::string kDir = std::string(FTDLA_SOURCE_DIR) + "/tests/fixtures/conformance";
/// |got - want| <= kAtol + kRtol * |want|: kRtol for float32 rounding in another summation order; kAtol for
/// values near 0 (e.g. a Conv output that cancels to 1e-8), where a relative bound alone is meaningless.
constexpr double kRtol = 1e-4;
constexpr double kAtol = 1e-6;

/// "case: reason" lines (or bare names) in file order; '#' comments and blank lines skipped. (No EXPECT here:
/// it also runs at static initialization, to instantiate the per-case tests.)
std::vector<std::pair<std::string, std::string>> read_entries(const std::string& file) {
  std::vector<std::pair<std::string, std::string>> out;
  std::ifstream in(kDir + "/" + file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(':');
    std::string name = line.substr(0, colon), reason = colon == std::string::npos ? "" : line.substr(colon + 1);
    name.erase(name.find_last_not_of(' ') + 1);
    reason.erase(0, std::min(reason.find_first_not_of(' '), reason.size()));
    out.emplace_back(name, reason);
  }
  return out;
}

std::map<std::string, std::string> read_list(const std::string& file) {
  std::map<std::string, std::string> out;
  for (const auto& [name, reason] : read_entries(file)) EXPECT_TRUE(out.emplace(name, reason).second) << file << " lists " << name << " twice";
  return out;
}

std::vector<std::string> case_dirs() {
  std::vector<std::string> v;
  if (!fs::is_directory(kDir)) return v;
  for (const auto& e : fs::directory_iterator(kDir))
    if (e.is_directory()) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

/// The op types of a case's model, e.g. "Conv" (from the ONNX file itself, for the per-operator tally).
std::string ops_of(const std::string& name) {
  onnx::ModelProto m;
  if (!m.ParseFromString(read_file(kDir + "/" + name + "/model.onnx"))) return "?";
  std::set<std::string> ops;
  for (const auto& n : m.graph().node()) ops.insert(n.op_type());
  std::string s;
  for (const auto& o : ops) s += (s.empty() ? "" : "+") + o;
  return s;
}

/// Runs one case; returns "" when every output value is within tolerance, else why not.
std::string run_case(const std::string& name) {
  const std::string dir = kDir + "/" + name;
  const std::string data = dir + "/test_data_set_0";
  try {
    const model::Graph g = model::load_onnx(dir + "/model.onnx");  // its message first: it says what ftdla lacks
    int n_in = 0, n_out = 0;
    for (const auto& e : fs::directory_iterator(data)) {
      const std::string f = e.path().filename().string();
      n_in += f.rfind("input_", 0) == 0;
      n_out += f.rfind("output_", 0) == 0;
    }
    if (n_in != 1 || n_out != 1)
      return std::to_string(n_in) + " input and " + std::to_string(n_out) + " output files (ftdla models have one of each)";
    const Tensor<float> x = data::read_tensor(data + "/input_0.pb");
    const Tensor<float> want = data::read_tensor(data + "/output_0.pb");
    const Tensor<float> got = model::run_batch(g, x, "input_0.pb");
    if (got.shape != want.shape) return "output shape " + to_string(got.shape) + ", expected " + to_string(want.shape);
    for (size_t i = 0; i < want.data.size(); ++i) {
      const double w = want.data[i], v = got.data[i];
      if (!(std::abs(v - w) <= kAtol + kRtol * std::abs(w)))
        return "output[" + std::to_string(i) + "] = " + std::to_string(v) + ", expected " + std::to_string(w);
    }
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

class Applicable : public testing::TestWithParam<std::string> {};

TEST_P(Applicable, MatchesTheOnnxReference) {
  const std::string why = run_case(GetParam());
  EXPECT_EQ(why, "") << GetParam() << " (" << ops_of(GetParam()) << ")";
}

std::vector<std::string> applicable_cases() {
  std::vector<std::string> v;
  for (const auto& [name, reason] : read_entries("applicable.txt")) v.push_back(name);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Onnx, Applicable, testing::ValuesIn(applicable_cases()),
                         [](const testing::TestParamInfo<std::string>& p) { return p.param; });

TEST(Conformance, EveryCaseIsClassifiedAndTheListsAreCurrent) {
  const auto applicable = read_list("applicable.txt");
  const auto not_applicable = read_list("not_applicable.txt");
  const std::vector<std::string> dirs = case_dirs();
  ASSERT_FALSE(dirs.empty()) << "no cases in " << kDir;
  ASSERT_FALSE(applicable.empty());
  const std::set<std::string> present(dirs.begin(), dirs.end());
  for (const auto& d : dirs) {
    const bool a = applicable.count(d) > 0, na = not_applicable.count(d) > 0;
    EXPECT_TRUE(a || na) << d << " is in neither applicable.txt nor not_applicable.txt";
    EXPECT_FALSE(a && na) << d << " is in both lists";
  }
  for (const auto& [name, reason] : applicable) EXPECT_TRUE(present.count(name)) << "applicable.txt: no case " << name;
  for (const auto& [name, reason] : not_applicable) {
    EXPECT_FALSE(reason.empty()) << "not_applicable.txt: " << name << " has no reason";
    if (!present.count(name)) {
      EXPECT_NE(reason.find("not committed"), std::string::npos) << "not_applicable.txt: no case " << name;
    }
  }

  // Tally by operator; a not-applicable case that passes belongs in applicable.txt.
  std::map<std::string, std::pair<int, int>> tally;  // ops -> (passed, applicable)
  int passed = 0;
  for (const auto& [name, reason] : applicable) {
    if (!present.count(name)) continue;
    const bool ok = run_case(name).empty();
    auto& t = tally[ops_of(name)];
    t.first += ok;
    t.second += 1;
    passed += ok;
    std::cout << (ok ? "pass  " : "FAIL  ") << name << "\n";
  }
  for (const auto& [name, reason] : not_applicable) {
    if (!present.count(name)) continue;
    const std::string why = run_case(name);
    EXPECT_NE(why, "") << name << " is listed as not applicable (" << reason << ") but passes: move it to applicable.txt";
    std::cout << "n/a   " << name << ": " << reason << "\n        ftdla: " << why << "\n";
  }
  std::cout << "passed " << passed << " of " << applicable.size() << " applicable cases; " << not_applicable.size()
            << " not applicable\n";
  for (const auto& [ops, t] : tally) std::cout << "  " << ops << ": " << t.first << "/" << t.second << "\n";
  EXPECT_EQ(passed, static_cast<int>(applicable.size()));
}

}  // namespace
}  // namespace ftdla
