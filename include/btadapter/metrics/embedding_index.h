#pragma once
/// Embedding indexes for retrieval over many videos (or texts), in the shape of faiss.
///
/// Data contract (every index, every method): embeddings and queries are float32 tensors [N, D] whose
/// rows are L2-normalised (|‖row‖ - 1| <= norm_tolerance, checked; the offending row is named), so the
/// inner product is the cosine similarity. Ids are int64 >= 0 chosen by the caller (duplicates are
/// allowed and returned as given); -1 is reserved for "no result". Search results live on the CPU.
///
/// Usage:
///   FlatInnerProductIndex index(FlatIndexOptions(512));
///   index.add(video_embeddings, video_ids);                   // [N, 512] float32, [N] int64
///   auto [scores, ids] = index.search(text_embeddings, 10);   // [Q, 10] float32, [Q, 10] int64
///   write_index(index, "videos.index.safetensors");
///   std::unique_ptr<EmbeddingIndex> back = read_index("videos.index.safetensors");
///
/// Ordering: results are sorted by score, best first; exact ties are broken by insertion order (the
/// row added first wins), so results are deterministic and equal to a stable sort of all scores.
/// When k > size(), the trailing slots hold score -inf and id -1 (as faiss).
///
/// Thread safety: every method may be called from several threads. search() calls run concurrently
/// (they take a shared lock); add() and reset() take an exclusive lock and wait for running searches.

#include "btadapter/io/safetensors.h"

#include <torch/arg.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

namespace btadapter::eval {

/// The k best matches of each query, both [Q, k] on the CPU.
struct SearchResult {
  torch::Tensor scores;  ///< float32 inner products, best first; -inf in unfilled slots
  torch::Tensor ids;     ///< int64 ids given to add(); -1 in unfilled slots
};

/// The abstract index (see the data contract above).
class EmbeddingIndex {
 public:
  virtual ~EmbeddingIndex() = default;

  /// Embedding width D.
  virtual int64_t dim() const = 0;
  /// Number of stored rows N.
  virtual int64_t size() const = 0;
  /// Appends rows. embeddings: [n, D] float32, L2-normalised, any device; ids: [n] int64 >= 0, or
  /// undefined for size(), size() + 1, ... Nothing is added when a check fails.
  virtual void add(const torch::Tensor& embeddings, const torch::Tensor& ids = {}) = 0;
  /// The k (>= 1) best rows for each query. queries: [Q, D] float32, L2-normalised, any device.
  virtual SearchResult search(const torch::Tensor& queries, int64_t k) const = 0;
  /// Removes every row (the width D stays).
  virtual void reset() = 0;
};

struct FlatIndexOptions {
  explicit FlatIndexOptions(int64_t dim) : dim_(dim) {}
  /// Embedding width D (required).
  TORCH_ARG(int64_t, dim);
  /// Where rows are stored and scored; default CPU.
  TORCH_ARG(torch::Device, device) = torch::kCPU;
  /// Stored rows scored per block; default 32768. Peak temporary memory is about
  /// 6 * query_block * block_rows bytes, whatever the index size.
  TORCH_ARG(int64_t, block_rows) = 32768;
  /// Queries scored per block; default 256.
  TORCH_ARG(int64_t, query_block) = 256;
  /// Largest accepted |‖row‖ - 1| for added rows and queries; default 1e-3.
  TORCH_ARG(double, norm_tolerance) = 1e-3;
};

/// Exact inner-product search by blocked matrix products and a running top-k merge, so scoring 1M rows
/// never materialises the full [Q, N] matrix.
class FlatInnerProductIndex : public EmbeddingIndex {
 public:
  explicit FlatInnerProductIndex(FlatIndexOptions options);

  int64_t dim() const override;
  int64_t size() const override;
  void add(const torch::Tensor& embeddings, const torch::Tensor& ids = {}) override;
  SearchResult search(const torch::Tensor& queries, int64_t k) const override;
  void reset() override;

  const FlatIndexOptions& options() const { return options_; }
  /// Copies of the stored rows ([N, D] float32) and ids ([N] int64), on the CPU, in insertion order.
  torch::Tensor embeddings() const;
  torch::Tensor ids() const;

 private:
  friend void write_index(const EmbeddingIndex&, const std::string&, const io::Metadata&);
  /// Stored rows and ids taken under one lock (a consistent pair for serialisation).
  std::pair<torch::Tensor, torch::Tensor> snapshot() const;

  FlatIndexOptions options_;
  mutable std::shared_mutex mutex_;
  // Rows live in fixed-size blocks of block_rows rows on options_.device(): adding never reallocates,
  // and each block is one matrix product at search time. Only the last block may be partly filled.
  std::vector<torch::Tensor> blocks_;
  int64_t last_block_rows_ = 0;
  std::vector<int64_t> ids_;  // one per stored row, in insertion order
};

/// Writes an index as safetensors: tensors "embeddings" [N, D] F32 and "ids" [N] I64; metadata
/// "format" = "btadapter.embedding_index", "format_version" = "1", "index_type" = "flat_ip", "dim", "count",
/// plus `metadata` (e.g. dataset, model sha256; its keys may not reuse those names). Atomic (temp file +
/// rename). Throws for index types it cannot store.
void write_index(const EmbeddingIndex& index, const std::string& path, const io::Metadata& metadata = {});

/// Reads a file written by write_index, checking format, type, shapes, dtypes and the row norms (errors
/// name the file). The index lives on `device`; `metadata`, when given, receives the file's metadata.
std::unique_ptr<EmbeddingIndex> read_index(const std::string& path, torch::Device device = torch::kCPU,
                                           io::Metadata* metadata = nullptr);

}  // namespace btadapter::eval
