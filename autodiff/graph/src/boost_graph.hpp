// Internal to the graph component: the Boost.Graph algorithms and Graphviz I/O its capture,
// DOT and analysis files use (one place for the includes and their warning suppression).
#pragma once

// Boost.Graph trips GCC 12's (maybe-)uninitialized warnings in its own code (false positives).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <boost/graph/breadth_first_search.hpp>
#include <boost/graph/graphviz.hpp>
#include <boost/graph/reverse_graph.hpp>
#include <boost/graph/topological_sort.hpp>
#pragma GCC diagnostic pop
#include <map>
#include <ostream>
#include <unordered_map>
