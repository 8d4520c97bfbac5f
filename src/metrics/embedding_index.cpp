#include "btadapter/metrics/embedding_index.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <mutex>

namespace btadapter::eval {
namespace {

constexpr char kIndexFormat[] = "btadapter.embedding_index";
constexpr char kFormatVersion[] = "1";
constexpr char kFlatInnerProduct[] = "flat_ip";

void check_rows(const torch::Tensor& rows, int64_t dim, double tolerance, const char* what) {
  TORCH_CHECK(rows.defined() && rows.dim() == 2 && rows.size(1) == dim, "expected ", what, " of shape [n, ", dim,
              "], got ", rows.defined() ? rows.sizes() : torch::IntArrayRef{});
  TORCH_CHECK(rows.scalar_type() == torch::kFloat, "expected float32 ", what, ", got ", rows.scalar_type());
  if (rows.size(0) == 0) return;
  auto norms = rows.norm(2, 1);
  auto bad = (norms - 1).abs().le(tolerance).logical_not().nonzero();
  if (bad.size(0) == 0) return;
  const int64_t row = bad[0][0].item<int64_t>();
  TORCH_CHECK(false, "expected L2-normalised ", what, " (|norm - 1| <= ", tolerance, "), got norm ",
              norms[row].item<float>(), " at row ", row);
}

// The k best columns of each row of `scores` [q, n] (k <= n), ordered by (score desc, column asc).
// topk alone may pick any of several columns tied at the k-th value; those rows are redone exactly.
std::pair<torch::Tensor, torch::Tensor> block_topk(const torch::Tensor& scores, int64_t k) {
  auto [values, columns] = scores.topk(k, 1, /*largest=*/true, /*sorted=*/true);
  auto kth = values.narrow(1, k - 1, 1);
  auto ambiguous = scores.ge(kth).sum(1).gt(k).nonzero().squeeze(1);
  if (ambiguous.numel() > 0) {
    auto rows = scores.index_select(0, ambiguous);
    auto row_kth = kth.index_select(0, ambiguous);
    auto above = rows.gt(row_kth);
    auto tied = rows.eq(row_kth);
    // Keep everything above the k-th value plus the leftmost ties that fill the k slots.
    auto keep = above.logical_or(tied.logical_and(tied.cumsum(1).le(k - above.sum(1, /*keepdim=*/true))));
    columns.index_copy_(0, ambiguous, keep.nonzero().select(1, 1).view({-1, k}));
  }
  columns = std::get<0>(columns.sort(1));
  values = scores.gather(1, columns);
  auto order = std::get<1>(values.sort(/*stable=*/true, 1, /*descending=*/true));
  return {values.gather(1, order), columns.gather(1, order)};
}

// Merges a block's candidates into the running best. The running positions are all smaller and both
// lists are in (score desc, position asc) order, so a stable sort of [running, block] keeps that order.
void merge_best(torch::Tensor& best_scores, torch::Tensor& best_rows, const torch::Tensor& scores,
                const torch::Tensor& rows, int64_t k) {
  if (!best_scores.defined()) {
    best_scores = scores;
    best_rows = rows;
    return;
  }
  auto all_scores = torch::cat({best_scores, scores}, 1);
  auto all_rows = torch::cat({best_rows, rows}, 1);
  auto order = std::get<1>(all_scores.sort(/*stable=*/true, 1, /*descending=*/true))
                   .narrow(1, 0, std::min(k, all_scores.size(1)));
  best_scores = all_scores.gather(1, order);
  best_rows = all_rows.gather(1, order);
}

}  // namespace

FlatInnerProductIndex::FlatInnerProductIndex(FlatIndexOptions options) : options_(std::move(options)) {
  TORCH_CHECK(options_.dim() >= 1, "expected an embedding width >= 1, got ", options_.dim());
  TORCH_CHECK(options_.block_rows() >= 1 && options_.query_block() >= 1,
              "expected block_rows and query_block >= 1, got ", options_.block_rows(), " and ",
              options_.query_block());
}

int64_t FlatInnerProductIndex::dim() const { return options_.dim(); }

int64_t FlatInnerProductIndex::size() const {
  std::shared_lock lock(mutex_);
  return static_cast<int64_t>(ids_.size());
}

void FlatInnerProductIndex::add(const torch::Tensor& embeddings, const torch::Tensor& ids) {
  check_rows(embeddings, dim(), options_.norm_tolerance(), "embeddings");
  const int64_t n = embeddings.size(0);
  torch::Tensor given;
  if (ids.defined()) {
    TORCH_CHECK(ids.dim() == 1 && ids.size(0) == n, "expected ids of shape [", n, "], got ", ids.sizes());
    TORCH_CHECK(ids.scalar_type() == torch::kLong, "expected int64 ids, got ", ids.scalar_type());
    given = ids.to(torch::kCPU).contiguous();
    TORCH_CHECK(n == 0 || given.min().item<int64_t>() >= 0, "expected ids >= 0 (-1 means no result), got ",
                given.min().item<int64_t>());
  }
  auto rows = embeddings.to(options_.device());
  std::unique_lock lock(mutex_);
  const auto first_id = static_cast<int64_t>(ids_.size());
  for (int64_t i = 0; i < n; ++i) ids_.push_back(given.defined() ? given.data_ptr<int64_t>()[i] : first_id + i);
  // Fill the last block, then open new ones: no reallocation, at most one partly empty block.
  for (int64_t done = 0; done < n;) {
    if (blocks_.empty() || last_block_rows_ == options_.block_rows()) {
      blocks_.push_back(torch::empty({options_.block_rows(), dim()}, rows.options()));
      last_block_rows_ = 0;
    }
    const int64_t take = std::min(n - done, options_.block_rows() - last_block_rows_);
    blocks_.back().narrow(0, last_block_rows_, take).copy_(rows.narrow(0, done, take));
    last_block_rows_ += take;
    done += take;
  }
}

SearchResult FlatInnerProductIndex::search(const torch::Tensor& queries, int64_t k) const {
  TORCH_CHECK(k >= 1, "expected k >= 1, got ", k);
  check_rows(queries, dim(), options_.norm_tolerance(), "queries");
  const int64_t num_queries = queries.size(0);
  SearchResult out{torch::full({num_queries, k}, -std::numeric_limits<float>::infinity()),
                   torch::full({num_queries, k}, -1, torch::kLong)};
  std::shared_lock lock(mutex_);
  const int64_t stored = static_cast<int64_t>(ids_.size());
  const int64_t filled = std::min(k, stored);
  if (filled == 0 || num_queries == 0) return out;
  auto all_queries = queries.to(options_.device());
  auto row_ids = torch::from_blob(const_cast<int64_t*>(ids_.data()), {stored}, torch::kLong);
  for (int64_t q0 = 0; q0 < num_queries; q0 += options_.query_block()) {
    const int64_t q_len = std::min(options_.query_block(), num_queries - q0);
    auto query_block = all_queries.narrow(0, q0, q_len);
    torch::Tensor best_scores, best_rows;
    for (size_t b = 0; b < blocks_.size(); ++b) {
      const int64_t rows = b + 1 == blocks_.size() ? last_block_rows_ : options_.block_rows();
      auto scores = query_block.matmul(blocks_[b].narrow(0, 0, rows).t());
      auto [top_scores, top_rows] = block_topk(scores, std::min(filled, rows));
      merge_best(best_scores, best_rows, top_scores, top_rows + static_cast<int64_t>(b) * options_.block_rows(), filled);
    }
    out.scores.narrow(0, q0, q_len).narrow(1, 0, filled).copy_(best_scores);
    auto positions = best_rows.to(torch::kCPU).reshape({-1});
    out.ids.narrow(0, q0, q_len).narrow(1, 0, filled).copy_(row_ids.index_select(0, positions).view({q_len, filled}));
  }
  return out;
}

void FlatInnerProductIndex::reset() {
  std::unique_lock lock(mutex_);
  blocks_.clear();
  ids_.clear();
  last_block_rows_ = 0;
}

std::pair<torch::Tensor, torch::Tensor> FlatInnerProductIndex::snapshot() const {
  std::shared_lock lock(mutex_);
  std::vector<torch::Tensor> parts;
  for (size_t b = 0; b < blocks_.size(); ++b) {
    parts.push_back(blocks_[b].narrow(0, 0, b + 1 == blocks_.size() ? last_block_rows_ : options_.block_rows()));
  }
  auto rows = parts.empty() ? torch::empty({0, dim()}) : torch::cat(parts).to(torch::kCPU);
  return {rows, torch::tensor(ids_, torch::kLong)};
}

torch::Tensor FlatInnerProductIndex::embeddings() const { return snapshot().first; }

torch::Tensor FlatInnerProductIndex::ids() const { return snapshot().second; }

void write_index(const EmbeddingIndex& index, const std::string& path, const io::Metadata& metadata) {
  const auto* flat = dynamic_cast<const FlatInnerProductIndex*>(&index);
  TORCH_CHECK(flat != nullptr, "write_index: expected a FlatInnerProductIndex, got another index type (for '",
              path, "')");
  auto [embeddings, ids] = flat->snapshot();
  io::Metadata meta = {{"format", kIndexFormat},
                       {"format_version", kFormatVersion},
                       {"index_type", kFlatInnerProduct},
                       {"dim", std::to_string(flat->dim())},
                       {"count", std::to_string(ids.size(0))}};
  for (const auto& [key, value] : metadata) {
    TORCH_CHECK(!meta.count(key), "write_index: metadata key '", key, "' is reserved (writing '", path, "')");
    meta[key] = value;
  }
  io::write_safetensors(path, {{"embeddings", embeddings}, {"ids", ids}}, meta);
}

std::unique_ptr<EmbeddingIndex> read_index(const std::string& path, torch::Device device, io::Metadata* metadata) {
  io::Metadata meta;
  auto tensors = io::read_safetensors(path, &meta);
  auto field = [&](const std::string& key) {
    auto it = meta.find(key);
    TORCH_CHECK(it != meta.end(), "read_index: expected metadata key '", key, "' in '", path,
                "' (not an index written by write_index?)");
    return it->second;
  };
  TORCH_CHECK(field("format") == kIndexFormat, "read_index: expected format '", kIndexFormat, "' in '", path, "', got '",
              field("format"), "'");
  TORCH_CHECK(field("format_version") == kFormatVersion, "read_index: expected format_version ", kFormatVersion,
              " in '", path, "', got '", field("format_version"), "'");
  TORCH_CHECK(field("index_type") == kFlatInnerProduct, "read_index: expected index_type '", kFlatInnerProduct,
              "' in '", path, "', got '", field("index_type"), "'");
  TORCH_CHECK(tensors.count("embeddings") && tensors.count("ids"), "read_index: expected tensors 'embeddings' and 'ids' in '",
              path, "'");
  const auto& embeddings = tensors.at("embeddings");
  const auto& ids = tensors.at("ids");
  const std::string dim = field("dim"), count = field("count");
  TORCH_CHECK(embeddings.dim() == 2 && std::to_string(embeddings.size(1)) == dim &&
                  std::to_string(embeddings.size(0)) == count,
              "read_index: expected 'embeddings' of shape [", count, ", ", dim, "] in '", path, "', got ",
              embeddings.sizes());
  TORCH_CHECK(ids.dim() == 1 && std::to_string(ids.size(0)) == count, "read_index: expected 'ids' of shape [",
              count, "] in '", path, "', got ", ids.sizes());
  auto index = std::make_unique<FlatInnerProductIndex>(FlatIndexOptions(embeddings.size(1)).device(device));
  try {
    index->add(embeddings, ids);
  } catch (const c10::Error& e) {
    TORCH_CHECK(false, "read_index: '", path, "': ", e.what_without_backtrace());
  }
  if (metadata) *metadata = std::move(meta);
  return index;
}

}  // namespace btadapter::eval
