#include "ferry/tls/identity.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "ferry/fs/fd.hpp"
#include "ferry/tls/context.hpp"
#include "ferry/util/errno_text.hpp"

namespace ferry::tls {
namespace {

// Long enough never to expire in a server's life: trust on first use pins the key, not dates.
constexpr long kValidSeconds = 20L * 365 * 24 * 3600;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

std::unique_ptr<X509, X509Free> self_signed(EVP_PKEY* key, const std::string& host_name) {
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) return nullptr;
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return nullptr;
  serial[0] &= 0x7f;  // positive
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  ASN1_INTEGER* asn1_serial = number != nullptr ? BN_to_ASN1_INTEGER(number, nullptr) : nullptr;
  BN_free(number);
  if (asn1_serial == nullptr) return nullptr;
  const bool serial_set = X509_set_serialNumber(cert.get(), asn1_serial) == 1;
  ASN1_INTEGER_free(asn1_serial);
  if (!serial_set || X509_set_version(cert.get(), 2) != 1) return nullptr;
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValidSeconds) == nullptr) {
    return nullptr;
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string common_name = "ferryd " + host_name;
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key) != 1 ||
      X509_sign(cert.get(), key, EVP_sha256()) == 0) {
    return nullptr;
  }
  return cert;
}

// Writes `text` to `path` through a temporary file in the same folder (mode `mode`, fsynced,
// renamed): a crash leaves the old file or the new one, never half of one.
bool write_atomically(const std::string& path, const std::string& text, mode_t mode,
                      std::string& error) {
  const std::string temporary = path + ".tmp";
  fs::Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid() || ::fchmod(fd.get(), mode) != 0) {
    error = temporary + ": " + util::errno_text(errno);
    return false;
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = temporary + ": " + util::errno_text(errno);
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
    error = path + ": " + util::errno_text(errno);
    return false;
  }
  return true;
}

template <typename Write>
std::string pem_text(Write write) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return {};
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

bool create_identity(const Identity& identity, const std::string& host_name, std::string& error) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) {
    error = last_error("cannot make a key");
    return false;
  }
  auto cert = self_signed(key.get(), host_name);
  if (!cert) {
    error = last_error("cannot make a certificate");
    return false;
  }
  const std::string key_text = pem_text([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  });
  const std::string cert_text =
      pem_text([&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); });
  if (key_text.empty() || cert_text.empty()) {
    error = "cannot write the key or the certificate as PEM";
    return false;
  }
  // The key first: a certificate without its key is never there.
  return write_atomically(identity.key_file, key_text, 0600, error) &&
         write_atomically(identity.cert_file, cert_text, 0644, error);
}

}  // namespace

// Called at start, before any other thread runs (getenv is not thread-safe).
std::string default_state_dir() {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): see above
  if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state == '/') {
    return std::string(state) + "/ferryd";
  }
  // NOLINTNEXTLINE(concurrency-mt-unsafe): see above
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::string(home) + "/.local/state/ferryd";
  }
  return {};
}

std::optional<Identity> load_or_create_identity(const std::string& state_dir,
                                                const std::string& host_name, std::string& error) {
  std::error_code made_error;
  std::filesystem::create_directories(state_dir, made_error);
  if (made_error) {
    error = state_dir + ": " + made_error.message();
    return std::nullopt;
  }
  ::chmod(state_dir.c_str(), 0700);  // best effort: the folder may be the operator's own
  Identity identity{state_dir + "/cert.pem", state_dir + "/key.pem", false};
  const std::string lock_path = state_dir + "/.lock";
  fs::Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.valid() || ::flock(lock.get(), LOCK_EX) != 0) {
    error = lock_path + ": " + util::errno_text(errno);
    return std::nullopt;
  }
  struct stat key_stat {};
  const bool have_key = ::stat(identity.key_file.c_str(), &key_stat) == 0;
  const bool have_cert = ::access(identity.cert_file.c_str(), F_OK) == 0;
  if (have_key && have_cert) {
    if ((key_stat.st_mode & 077) != 0) {
      error = fmt::format("{}: open to others (mode {:o}); chmod 600 it", identity.key_file,
                          key_stat.st_mode & 0777);
      return std::nullopt;
    }
    return identity;
  }
  if (have_key != have_cert) {
    error = "only one of " + identity.key_file + " and " + identity.cert_file +
            " is there; remove it to make a new identity";
    return std::nullopt;
  }
  if (!create_identity(identity, host_name, error)) return std::nullopt;
  identity.created = true;
  return identity;
}

}  // namespace ferry::tls
