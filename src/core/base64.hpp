// Base64 (RFC 4648 §4, with padding) and base64url (§5, without): OTLP's bytes values, cursors,
// API keys, and the credentials of Basic and ApiKey authorization headers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace logpipe::core {

enum class Base64 { standard, url };

// standard: padded with '='; url: '-' and '_', no padding.
std::string base64_encode(std::string_view bytes, Base64 alphabet = Base64::standard);
// nullopt when `text` holds a character outside the alphabet, or is cut where no encoder cuts
// (a lone sixth bit group). Padding is accepted, and not required, in both alphabets.
std::optional<std::string> base64_decode(std::string_view text, Base64 alphabet = Base64::standard);

}  // namespace logpipe::core
