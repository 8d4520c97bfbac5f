#include "btadapter/data/loader.h"

#include "btadapter/data/sharding.h"

#include <c10/util/Exception.h>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <exception>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace btadapter::data {

std::string loader_state_to_json(const LoaderState& state) {
  return nlohmann::json{{"epoch", state.epoch}, {"position", state.position}, {"seed", std::to_string(state.seed)}}
      .dump();
}

LoaderState loader_state_from_json(const std::string& json_text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    TORCH_CHECK(false, "loader state: not valid JSON: ", e.what());
  }
  TORCH_CHECK(j.is_object(), "loader state: expected a JSON object, got ", j.type_name());
  for (const char* key : {"epoch", "position"}) {
    TORCH_CHECK(j.contains(key) && j[key].is_number_integer() && j[key].get<int64_t>() >= 0, "loader state: expected key '",
                key, "' with an integer >= 0");
  }
  TORCH_CHECK(j.contains("seed") && j["seed"].is_string(), "loader state: expected key 'seed' with a decimal string");
  LoaderState state;
  state.epoch = j["epoch"].get<int64_t>();
  state.position = j["position"].get<int64_t>();
  const std::string seed = j["seed"].get<std::string>();
  size_t used = 0;
  try {
    state.seed = std::stoull(seed, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  TORCH_CHECK(!seed.empty() && used == seed.size() && seed[0] != '-', "loader state: expected 'seed' to be a decimal ",
              "unsigned 64-bit number, got '", seed, "'");
  return state;
}

// ---------------------------------------------------------------------------------------------------

struct VideoTextLoader::Totals {
  mutable std::mutex mutex;
  LoaderStats stats;
  std::unordered_set<std::string> bad_seen, short_seen;
  std::vector<SkippedVideo> skipped;
  std::function<void(const std::string&)> log;

  // Counts a bad video once and logs it once, however often it is drawn.
  void record_bad(const VideoError& e) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!bad_seen.insert(e.path()).second) return;
    ++(e.kind() == VideoErrorKind::kMissing ? stats.missing : stats.corrupt);
    say(std::string("data: ") + e.what());
  }

  // The same for a video shorter than the clip (used, its frames repeat), named as bt_check_videos does.
  void record_short(const std::string& path, const std::string& reason) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!short_seen.insert(path).second) return;
    ++stats.too_short;
    say("data: '" + path + "' is too short: " + reason + " (its frames repeat)");
  }

  void say(const std::string& line) const {
    if (log) {
      log(line);
    } else {
      std::cerr << line << std::endl;
    }
  }
};

namespace {

// Writes (x - mean) / std of uint8 [T,3,H,W] into the float slot (same shape) with a plain loop: worker
// threads must not start torch's intra-op thread pools.
void normalize_into(const torch::Tensor& frames, torch::Tensor& slot) {
  const uint8_t* src = frames.data_ptr<uint8_t>();
  float* dst = slot.data_ptr<float>();
  const int64_t plane = frames.size(2) * frames.size(3);
  for (int64_t t = 0; t < frames.size(0); ++t) {
    for (int64_t c = 0; c < 3; ++c) {
      const float mean = static_cast<float>(kClipMean[c]), inv_std = 1.0f / static_cast<float>(kClipStd[c]);
      const int64_t offset = (t * 3 + c) * plane;
      for (int64_t i = 0; i < plane; ++i) dst[offset + i] = (static_cast<float>(src[offset + i]) - mean) * inv_std;
    }
  }
}

}  // namespace

class VideoTextLoader::Pipeline {
 public:
  Pipeline(const VideoTextDataset& dataset, const LoaderOptions& options, Totals& totals, int64_t epoch,
           uint64_t seed, Shard shard)
      : dataset_(dataset), options_(options), totals_(totals), epoch_(epoch), seed_(seed), shard_(std::move(shard)) {
    const int64_t workers = std::max<int64_t>(1, options.num_workers());
    for (int64_t w = 0; w < workers; ++w) threads_.emplace_back([this] { work(); });
  }

  ~Pipeline() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    work_ready_.notify_all();
    for (auto& t : threads_) t.join();
  }

  // The next batch in order; nullopt when every batch was handed out. Re-throws a worker's error.
  std::optional<Batch> take() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (next_batch_ >= shard_.batches) return std::nullopt;
    // An error surfaces when its batch is due: earlier batches (whose tasks were all taken before the
    // failing one) are still handed out first.
    batch_done_.wait(lock, [&] {
      return (error_ && error_batch_ <= next_batch_) ||
             (pending_.count(next_batch_) && pending_[next_batch_].remaining == 0);
    });
    if (error_ && error_batch_ <= next_batch_) std::rethrow_exception(error_);
    Pending done = std::move(pending_[next_batch_]);
    pending_.erase(next_batch_);
    ++next_batch_;
    lock.unlock();
    work_ready_.notify_all();
    return assemble(std::move(done));
  }

 private:
  struct Item {
    int64_t index = -1;  // dataset index loaded; -1 when skipped
    bool replaced = false;
    std::optional<SkippedVideo> skipped;
  };
  struct Pending {
    torch::Tensor video;  // float [B,T,3,S,S], filled slot by slot
    std::vector<Item> items;
    int64_t remaining = 0;
  };

  int64_t total_tasks() const { return static_cast<int64_t>(shard_.indices.size()); }
  int64_t batch_of(int64_t task) const { return task / options_.batch_size(); }

  void work() {
    for (;;) {
      int64_t task = -1;
      try {
        torch::Tensor slot;
        {
          std::unique_lock<std::mutex> lock(mutex_);
          work_ready_.wait(lock, [&] {
            return stop_ || error_ || next_task_ >= total_tasks() ||
                   batch_of(next_task_) < next_batch_ + options_.prefetch_batches();
          });
          if (stop_ || error_ || next_task_ >= total_tasks()) return;
          task = next_task_++;
          slot = slot_for(task);
        }
        Item item = produce(task, slot);
        std::lock_guard<std::mutex> lock(mutex_);
        Pending& p = pending_[batch_of(task)];
        p.items[static_cast<size_t>(task % options_.batch_size())] = std::move(item);
        if (--p.remaining == 0) batch_done_.notify_all();
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        const int64_t batch = task < 0 ? next_batch_ : batch_of(task);
        if (!error_ || batch < error_batch_) {
          error_ = std::current_exception();
          error_batch_ = batch;
        }
        batch_done_.notify_all();
        work_ready_.notify_all();
        return;
      }
    }
  }

  // Called under the lock: the batch's tensor is made by whichever worker reaches it first.
  torch::Tensor slot_for(int64_t task) {
    const int64_t b = batch_of(task);
    Pending& p = pending_[b];
    if (!p.video.defined()) {
      const int64_t size = std::min(options_.batch_size(), total_tasks() - b * options_.batch_size());
      const auto& clip = dataset_.clip_options();
      const int64_t s = clip.transform().size();
      p.video = torch::empty({size, clip.num_frames(), 3, s, s}, torch::kFloat);
      p.items.resize(static_cast<size_t>(size));
      p.remaining = size;
    }
    return p.video[task % options_.batch_size()];
  }

  Item produce(int64_t task, torch::Tensor& slot) {
    const int64_t original = shard_.indices[static_cast<size_t>(task)];
    const auto n = static_cast<uint64_t>(dataset_.size());
    int64_t index = original;
    for (int64_t attempt = 0;; ++attempt) {
      try {
        const uint64_t seed = DataRng::mix({seed_, static_cast<uint64_t>(epoch_), static_cast<uint64_t>(index)});
        Clip clip = dataset_.load(index, seed);
        normalize_into(clip.frames, slot);
        const std::string short_by = too_short_reason(clip.video_frames, dataset_.clip_options().num_frames());
        if (!short_by.empty()) totals_.record_short(dataset_.sample(index).video, short_by);
        std::lock_guard<std::mutex> lock(totals_.mutex);
        ++totals_.stats.loaded;
        totals_.stats.count_corrected += clip.count_corrected ? 1 : 0;
        return Item{index, attempt > 0, std::nullopt};
      } catch (const VideoError& e) {
        totals_.record_bad(e);
        if (options_.bad_video() == BadVideoPolicy::kError) throw;
        if (options_.bad_video() == BadVideoPolicy::kSkip) return Item{-1, false, SkippedVideo{index, e.path(), e.what()}};
        TORCH_CHECK(attempt < options_.max_replacements(), "data loader: gave up after ", options_.max_replacements(),
                    " replacements for sample ", original, " (last: ", e.what(), "); are most videos missing?");
        index = static_cast<int64_t>(DataRng::mix({seed_, static_cast<uint64_t>(epoch_), static_cast<uint64_t>(original),
                                                   static_cast<uint64_t>(attempt + 1), 0xBADULL}) % n);
      }
    }
  }

  Batch assemble(Pending done) {
    Batch batch;
    std::vector<int64_t> keep, indices, labels;
    for (size_t i = 0; i < done.items.size(); ++i) {
      const Item& item = done.items[i];
      if (item.skipped) {
        batch.skipped.push_back(*item.skipped);
        continue;
      }
      const VideoTextSample& s = dataset_.sample(item.index);
      keep.push_back(static_cast<int64_t>(i));
      indices.push_back(item.index);
      labels.push_back(s.label);
      batch.captions.push_back(s.caption);
      batch.ids.push_back(s.id);
      batch.num_replaced += item.replaced ? 1 : 0;
    }
    const bool all_kept = keep.size() == done.items.size();
    batch.video = all_kept ? std::move(done.video) : done.video.index_select(0, torch::tensor(keep, torch::kLong));
    batch.indices = torch::tensor(indices, torch::kLong);
    batch.labels = torch::tensor(labels, torch::kLong);
    std::lock_guard<std::mutex> lock(totals_.mutex);
    totals_.stats.replaced += batch.num_replaced;
    totals_.stats.skipped += static_cast<int64_t>(batch.skipped.size());
    totals_.skipped.insert(totals_.skipped.end(), batch.skipped.begin(), batch.skipped.end());
    return batch;
  }

  const VideoTextDataset& dataset_;
  const LoaderOptions options_;
  Totals& totals_;
  const int64_t epoch_;
  const uint64_t seed_;
  const Shard shard_;

  std::mutex mutex_;
  std::condition_variable work_ready_, batch_done_;
  std::map<int64_t, Pending> pending_;
  int64_t next_task_ = 0;
  int64_t next_batch_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;  // the failure of the earliest batch, re-thrown when that batch is due
  int64_t error_batch_ = 0;
  std::vector<std::thread> threads_;
};

// ---------------------------------------------------------------------------------------------------

VideoTextLoader::VideoTextLoader(std::shared_ptr<const VideoTextDataset> dataset, LoaderOptions options,
                                 std::optional<LoaderState> resume)
    : dataset_(std::move(dataset)), options_(std::move(options)), totals_(std::make_unique<Totals>()) {
  TORCH_CHECK(dataset_, "data loader: expected a dataset");
  TORCH_CHECK(options_.batch_size() >= 1, "data loader: expected batch_size >= 1, got ", options_.batch_size());
  TORCH_CHECK(options_.num_workers() >= 1, "data loader: expected num_workers >= 1, got ", options_.num_workers());
  TORCH_CHECK(options_.prefetch_batches() >= 1, "data loader: expected prefetch_batches >= 1, got ",
              options_.prefetch_batches());
  TORCH_CHECK(options_.world_size() >= 1 && options_.rank() >= 0 && options_.rank() < options_.world_size(),
              "data loader: expected 0 <= rank < world_size, got rank ", options_.rank(), " of ", options_.world_size());
  state_ = resume.value_or(LoaderState{0, 0, options_.seed()});
  TORCH_CHECK(state_.position >= 0 && state_.position <= dataset_->size(), "data loader: resume position ",
              state_.position, " lies outside the dataset's ", dataset_->size(), " samples");
  totals_->log = options_.log();
  start_epoch();
}

VideoTextLoader::~VideoTextLoader() = default;

void VideoTextLoader::start_epoch() {
  Shard shard = shard_epoch(epoch_order(dataset_->size(), state_.seed, state_.epoch, options_.shuffle()),
                            state_.position, options_.rank(), options_.world_size(), options_.batch_size(),
                            options_.drop_last());
  TORCH_CHECK(shard.batches > 0 || state_.position > 0, "data loader: ", dataset_->size(), " samples give no ",
              options_.drop_last() ? "full " : "", "batch of ", options_.batch_size(), " on ", options_.world_size(),
              " rank(s)");
  epoch_start_position_ = state_.position;
  batches_in_epoch_ = shard.batches;
  batches_done_ = 0;
  pipeline_.reset();
  pipeline_ = std::make_unique<Pipeline>(*dataset_, options_, *totals_, state_.epoch, state_.seed, std::move(shard));
}

std::optional<Batch> VideoTextLoader::next() {
  if (!pipeline_) start_epoch();
  for (;;) {
    std::optional<Batch> batch = pipeline_->take();
    if (!batch) {
      pipeline_.reset();
      state_ = LoaderState{state_.epoch + 1, 0, state_.seed};
      return std::nullopt;
    }
    ++batches_done_;
    const int64_t per_batch = options_.batch_size() * options_.world_size();
    state_.position = std::min(dataset_->size(), epoch_start_position_ + batches_done_ * per_batch);
    if (batch->video.size(0) > 0) return batch;  // a batch whose items were all skipped is not handed out
  }
}

LoaderState VideoTextLoader::state() const { return state_; }
int64_t VideoTextLoader::batches_in_epoch() const { return batches_in_epoch_; }
int64_t VideoTextLoader::batches_left() const { return pipeline_ ? batches_in_epoch_ - batches_done_ : 0; }

LoaderStats VideoTextLoader::stats() const {
  std::lock_guard<std::mutex> lock(totals_->mutex);
  return totals_->stats;
}

std::vector<SkippedVideo> VideoTextLoader::skipped() const {
  std::lock_guard<std::mutex> lock(totals_->mutex);
  return totals_->skipped;
}

}  // namespace btadapter::data
