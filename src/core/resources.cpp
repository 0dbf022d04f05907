// SPDX-License-Identifier: MIT
#include "ftdla/core/resources.hpp"

#include <sys/resource.h>

namespace ftdla {

double peak_rss_mb() {
  struct rusage ru {};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
#if defined(__APPLE__)
  return static_cast<double>(ru.ru_maxrss) / (1024.0 * 1024.0);  // bytes on macOS
#else
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // KiB on Linux and the BSDs
#endif
}

}  // namespace ftdla
