#pragma once

// A transfer's place in the limits, taken at OPEN and held by the opened port, then by the
// transfer connection, until it ends: in all and per address (AddressLimits, shared), and
// per session (a count the session and its transfers share on their one worker thread;
// transfers may outlive their session).

#include <cstddef>
#include <memory>
#include <string>
#include <utility>

#include "address_limits.hpp"

namespace ferryd {

class TransferSlot {
 public:
  TransferSlot(AddressLimits& limits, std::string address, std::shared_ptr<std::size_t> held)
      : limits_(&limits), address_(std::move(address)), session_held_(std::move(held)) {
    ++*session_held_;
  }
  TransferSlot(TransferSlot&& other) noexcept
      : limits_(std::exchange(other.limits_, nullptr)),
        address_(std::move(other.address_)),
        session_held_(std::move(other.session_held_)) {}
  TransferSlot& operator=(TransferSlot&&) = delete;
  TransferSlot(const TransferSlot&) = delete;
  TransferSlot& operator=(const TransferSlot&) = delete;
  ~TransferSlot() {
    if (limits_ == nullptr) return;
    limits_->release(address_);
    --*session_held_;
  }

 private:
  AddressLimits* limits_;
  std::string address_;
  std::shared_ptr<std::size_t> session_held_;
};

}  // namespace ferryd
