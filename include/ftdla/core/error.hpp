// SPDX-License-Identifier: MIT
// Typed errors for bad input. cli/ catches ftdla::Error, prints what() on one line and exits non-zero.
#pragma once
#include <stdexcept>
#include <string>

namespace ftdla {

/// Base of every error caused by user input. Message shape: "where: what is wrong (got X, expected Y)".
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
/// A configuration value, option or JSON document is invalid.
class ConfigError : public Error { public: using Error::Error; };
/// A file (ONNX model, dataset, result file) cannot be read or parsed.
class ImportError : public Error { public: using Error::Error; };
/// Inputs are individually valid but do not fit together (shapes, counts).
class ValidationError : public Error { public: using Error::Error; };
/// A well-formed input uses a feature ftdla does not implement (e.g. an ONNX op).
class UnsupportedError : public Error { public: using Error::Error; };

/// Internal invariant violated: a bug in ftdla, not bad input. Always on (cheap checks only).
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

}  // namespace ftdla

#define FTDLA_STR2(x) #x
#define FTDLA_STR(x) FTDLA_STR2(x)
#define FTDLA_ASSERT(cond)                                                                   \
  do {                                                                                       \
    if (!(cond))                                                                             \
      throw ::ftdla::InternalError(__FILE__ ":" FTDLA_STR(__LINE__) ": assertion failed: " #cond); \
  } while (0)
