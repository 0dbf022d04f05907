// SPDX-License-Identifier: MIT
// What the process has used of the machine, for result files.
#pragma once

namespace ftdla {

/// Peak resident set size of this process so far, in MiB (getrusage RUSAGE_SELF ru_maxrss); 0 when the
/// platform does not report it. Per process: under MPI each rank has its own (dist::allreduce_max).
double peak_rss_mb();

}  // namespace ftdla
