#pragma once
/// Plain-text metric tables for stdout. Values are rounded to one decimal (the JSON record keeps full
/// precision). Example:
///
///   MSR-VTT 1k-A (t2v+v2t, ties=pessimistic, dsl=off)
///            R@1    R@5   R@10    MdR    MnR
///   t2v     44.1   70.2   79.5    2.0   15.3
///   v2t     43.0   71.5   80.1    2.0   12.8
///
/// One R@K column per requested cut-off; the v2t row only when v2t was computed. Every line ends with
/// '\n'. Thread safety: free functions without shared state.

#include "btadapter/metrics/recognition_metrics.h"
#include "btadapter/metrics/retrieval_metrics.h"

#include <string>

namespace btadapter::eval {

/// Title line (`title` followed by the protocol in parentheses), header, t2v row, v2t row.
std::string format_retrieval_table(const RetrievalMetrics& metrics, const std::string& title = "");

/// Title line (`title` followed by the tie mode), header "top1 top5 ... mean-class", one row of values.
std::string format_recognition_table(const RecognitionMetrics& metrics, const std::string& title = "");

}  // namespace btadapter::eval
