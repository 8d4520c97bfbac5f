#pragma once
/// The prediction file of a video-QA evaluation, written as the official BT-Adapter inference scripts
/// write it, so the official GPT-scoring scripts (`quantitative_evaluation/evaluate_*.py`) read it:
/// a JSON list with one record per answered row,
///  - msvd-qa, msrvtt-qa, activitynet-qa: `{"id", "question", "answer", "pred"}` (the MSRVTT script as
///    shipped writes Python's builtin `id` and cannot serialise it; we write the row's id);
///  - benchmark generic / temporal: the input row plus "pred"; consistency: the row plus "pred1", "pred2".
/// Plus an offline score, labelled as such: answer-in-prediction accuracy. It is NOT the paper's
/// metric (the papers report GPT-3.5-scored accuracy and scores).
///
///   QaPredictionWriter writer("out/msvd.json");                 // an existing file is read back
///   QaRunSummary summary = run_qa_predictions(items, "videos/", writer,
///       [&](const QaItem& item, const std::string& video) { return answer_all(item, video); });
///   std::cout << describe(writer.offline_score());
///
/// Resuming: the k-th item with a given key (QaItem::key) counts as answered when the file holds at
/// least k records with that key; answered items are skipped and new records appended. Every write
/// replaces the file atomically (io/atomic_file.h), so an interrupted run leaves a valid file.
///
/// Thread safety: a QaPredictionWriter is used by one thread at a time.

#include "btadapter/eval/qa_datasets.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace btadapter::eval {

/// answer-in-prediction: both texts lower-cased (ASCII), every non-alphanumeric ASCII character made a
/// space, then the answer's words must appear as consecutive whole words of the prediction. An empty
/// answer never matches.
bool answer_in_prediction(const std::string& answer, const std::string& prediction);

/// The offline score over a prediction file's records (consistency rows count pred1 and pred2).
struct QaOfflineScore {
  int64_t predictions = 0;  ///< predictions scored
  int64_t matched = 0;      ///< answer_in_prediction true
  double accuracy = 0;      ///< matched / predictions, 0..1 (0 when nothing was scored)
};

/// "offline answer-in-prediction accuracy (not the paper's GPT-scored metric): 41.20% (412/1000)".
std::string describe(const QaOfflineScore& score);

class QaPredictionWriter {
 public:
  /// Opens `path`. An existing file is read back (it must be a JSON list of objects, each with the
  /// fields of `format`); a missing file starts empty. Throws c10::Error naming the file and row.
  /// `flush_every`: records appended between writes (default 1: every answer is on disk at once).
  QaPredictionWriter(std::string path, QaFormat format, int64_t flush_every = 1);
  ~QaPredictionWriter();
  QaPredictionWriter(const QaPredictionWriter&) = delete;
  QaPredictionWriter& operator=(const QaPredictionWriter&) = delete;

  /// answered[i]: items[i] already has a record (the multiset rule above).
  std::vector<bool> answered(const std::vector<QaItem>& items) const;
  /// Appends item's record with `predictions` (1 answer; 2 for consistency) and writes the file when
  /// flush_every records are pending. Throws c10::Error for the wrong number of predictions.
  void append(const QaItem& item, const std::vector<std::string>& predictions);
  /// Writes pending records (no-op when none).
  void flush();

  int64_t size() const;  ///< records, resumed ones included
  const std::string& path() const { return path_; }
  QaFormat format() const { return format_; }
  QaOfflineScore offline_score() const;

 private:
  struct Records;
  std::string path_;
  QaFormat format_;
  int64_t flush_every_;
  int64_t pending_ = 0;
  std::unique_ptr<Records> records_;
};

/// What run_qa_predictions did.
struct QaRunSummary {
  int64_t items = 0;             ///< rows in the dataset
  int64_t already_answered = 0;  ///< skipped: answered in the existing file
  int64_t answered = 0;          ///< answered in this run
  int64_t skipped = 0;           ///< bad or missing videos (and any other per-item error), counted
  std::vector<std::string> skipped_reasons;  ///< "<video_name>: <message>" per skipped item
};

/// Answers one item: one prediction per question of `item`, given the resolved video path.
using QaAnswerFunction = std::function<std::vector<std::string>(const QaItem& item, const std::string& video_path)>;

/// Answers every unanswered item whose video exists under `video_dir`, appending to `writer`, and
/// flushes it at the end. A missing video or an error thrown by `answer` skips the item (counted with
/// its reason), as the official scripts skip a failing video. `on_item(done, total)` is called after
/// each item when given.
QaRunSummary run_qa_predictions(const std::vector<QaItem>& items, const std::string& video_dir,
                                QaPredictionWriter& writer, const QaAnswerFunction& answer,
                                const std::function<void(int64_t, int64_t)>& on_item = {});

}  // namespace btadapter::eval
