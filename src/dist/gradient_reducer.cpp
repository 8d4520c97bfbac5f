#include "btadapter/dist/gradient_reducer.h"

#include <c10/util/Exception.h>
#include <torch/autograd.h>

#include <mutex>
#include <optional>

namespace btadapter::dist {
namespace {

struct Slot {
  size_t param = 0;
  int64_t offset = 0;
  int64_t numel = 0;
};

struct Bucket {
  torch::Tensor flat;
  std::vector<Slot> slots;
  size_t ready = 0;
  std::optional<PendingCollective> pending;
};

}  // namespace

struct GradientReducer::Impl {
  std::vector<torch::Tensor> params;
  std::shared_ptr<ProcessGroup> group;
  std::vector<Bucket> buckets;
  std::vector<std::pair<size_t, size_t>> where;  // param -> (bucket, slot)
  std::vector<bool> delivered;                   // gradient copied into its bucket this step
  size_t next_launch = 0;                        // buckets launch strictly in index order
  std::vector<unsigned> hooks;
  std::mutex mutex;

  void build_buckets(int64_t bucket_bytes) {
    where.resize(params.size());
    for (size_t k = params.size(); k-- > 0;) {
      const auto& p = params[k];
      TORCH_CHECK(p.requires_grad() && p.layout() == torch::kStrided, "GradientReducer: parameter ", k,
                  " must be a dense tensor that requires grad");
      bool fresh = buckets.empty();
      if (!fresh) {
        const auto& last = params[buckets.back().slots.back().param];
        const int64_t used = buckets.back().slots.back().offset + buckets.back().slots.back().numel;
        fresh = last.dtype() != p.dtype() || last.device() != p.device() ||
                (used + p.numel()) * static_cast<int64_t>(p.element_size()) > bucket_bytes;
      }
      if (fresh) buckets.emplace_back();
      auto& bucket = buckets.back();
      const int64_t offset = bucket.slots.empty() ? 0 : bucket.slots.back().offset + bucket.slots.back().numel;
      where[k] = {buckets.size() - 1, bucket.slots.size()};
      bucket.slots.push_back({k, offset, p.numel()});
    }
    for (auto& bucket : buckets) {
      const auto& tail = bucket.slots.back();
      bucket.flat = torch::zeros({tail.offset + tail.numel}, params[tail.param].options().requires_grad(false));
    }
    delivered.assign(params.size(), false);
  }

  torch::Tensor view(const Bucket& bucket, const Slot& slot) const {
    return bucket.flat.narrow(0, slot.offset, slot.numel);
  }

  void deliver(size_t k, const torch::Tensor& grad) {
    torch::NoGradGuard no_grad;
    TORCH_CHECK(!delivered[k], "GradientReducer: parameter ", k, " got a second gradient before synchronize(); "
                "accumulating gradients over several backward passes is not supported");
    auto [b, s] = where[k];
    view(buckets[b], buckets[b].slots[s]).copy_(grad.reshape(-1));
    delivered[k] = true;
    ++buckets[b].ready;
  }

  void launch_ready() {
    while (next_launch < buckets.size() && buckets[next_launch].ready == buckets[next_launch].slots.size()) {
      auto& bucket = buckets[next_launch++];
      bucket.pending = group->all_reduce_sum_async(bucket.flat);
    }
  }

  void on_hook(size_t k, const torch::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    deliver(k, grad);
    launch_ready();
  }

  // Gradients no hook delivered: from .grad when set (hooks off, or set by hand), else zeros.
  void deliver_missing() {
    torch::NoGradGuard no_grad;
    for (size_t k = 0; k < params.size(); ++k) {
      if (delivered[k]) continue;
      const auto& grad = params[k].grad();
      if (grad.defined()) {
        deliver(k, grad);
      } else {
        auto [b, s] = where[k];
        view(buckets[b], buckets[b].slots[s]).zero_();
        delivered[k] = true;
        ++buckets[b].ready;
      }
    }
  }

  void write_averages() {
    torch::NoGradGuard no_grad;
    const double scale = 1.0 / group->world_size();
    for (auto& bucket : buckets) {
      bucket.pending->wait();  // the sum must be complete before it is scaled
      bucket.flat.mul_(scale);
      for (const auto& slot : bucket.slots) {
        auto& param = params[slot.param];
        auto average = view(bucket, slot).view_as(param);
        if (param.grad().defined()) {
          param.mutable_grad().copy_(average);
        } else {
          param.mutable_grad() = average.clone();
        }
      }
      bucket.pending.reset();
      bucket.ready = 0;
    }
    delivered.assign(params.size(), false);
    next_launch = 0;
  }
};

GradientReducer::GradientReducer(std::vector<torch::Tensor> params, std::shared_ptr<ProcessGroup> group,
                                 GradientReducerOptions options)
    : impl_(std::make_unique<Impl>()) {
  TORCH_CHECK(group, "GradientReducer: expected a process group");
  TORCH_CHECK(options.bucket_bytes() > 0, "GradientReducer: bucket_bytes must be positive, got ",
              options.bucket_bytes());
  impl_->params = std::move(params);
  impl_->group = std::move(group);
  if (impl_->group->world_size() == 1 || impl_->params.empty()) return;
  impl_->build_buckets(options.bucket_bytes());
  if (!options.overlap_with_backward()) return;
  Impl* impl = impl_.get();
  for (size_t k = 0; k < impl->params.size(); ++k) {
    impl->hooks.push_back(impl->params[k].register_hook([impl, k](torch::Tensor grad) { impl->on_hook(k, grad); }));
  }
}

GradientReducer::~GradientReducer() {
  for (size_t k = 0; k < impl_->hooks.size(); ++k) impl_->params[k].remove_hook(impl_->hooks[k]);
}

void GradientReducer::synchronize() {
  if (impl_->buckets.empty()) return;
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->deliver_missing();
  impl_->launch_ready();
  impl_->write_averages();
}

int64_t GradientReducer::num_buckets() const { return static_cast<int64_t>(impl_->buckets.size()); }

}  // namespace btadapter::dist
