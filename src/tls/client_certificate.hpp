// What a TLS peer's certificate says to logpipe: its subject, for logs, and the one CN of the
// subject, which names the tenant of a syslog TLS client (README "Mutual TLS for syslog").
#pragma once

#include <openssl/types.h>

#include <string>

#include "core/result.hpp"

namespace logpipe::tls {

// A distinguished name as RFC 2253 text ("CN=tenant-a,O=Example"), as OpenSSL writes it with its
// escapes: bytes outside ASCII and control characters come out as \XX, so the text is safe to
// log whatever the certificate holds.
std::string distinguished_name(const X509_NAME* name);
// The subject of a certificate, as distinguished_name writes it; empty for no certificate.
std::string subject(const X509* cert);

// The value of the subject's one CN (commonName), as UTF-8, whatever string type the
// certificate used. Errc::invalid_argument, saying why, for: no certificate; a subject without
// a CN; more than one CN (which one counts differs between TLS libraries and tools, so none is
// chosen); a value that is not valid text in its type (e.g. a UTF8String that is not UTF-8);
// a NUL inside it (the certificate would name one thing to C strings and another to us); an
// empty one.
core::Result<std::string> common_name(const X509* cert);

}  // namespace logpipe::tls
