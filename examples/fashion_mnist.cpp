// Fashion-MNIST: a 784-512-10 ReLU network trained with Adam on mini-batches of 128.
// Tensor operations record one node each on the tape; the loop records a batch, sweeps, steps
// and rewinds without allocating once warm. Prints a progress bar and the test accuracy after
// every epoch, and writes fashion_mnist.csv and fashion_mnist.svg (loss and accuracy curves) and
// the trained parameters to fashion_mnist.npz (numpy.load reads it), loaded back and checked.
//
// Options: --epochs E (5)  --train N (all 60000)  --test N (all 10000)  --min-accuracy A (0)
//          --data DIR (/usr/share/datasets/fashion-mnist)
//          --threads T (0: one tape on this thread; T ≥ 1: each batch in 4 shards of 32 images on
//          T threads with nn::DataParallel — the same training, bit for bit, for every T)
//          --distributed (data-parallel across the ranks of an MPI job, nabla::mpi::DataParallel:
//          each batch's 4 shards of 32 dealt to the ranks, gradients all-reduced once per step,
//          on --threads T threads per rank (1 by default); only rank 0 prints and writes files):
//          scripts/mpirun -np 2 build/examples/fashion_mnist --distributed
#include <nabla/autodiff.hpp>
#include <nabla/autodiff/npz.hpp>
#include <nabla/optim.hpp>

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/chart.hpp"

// Defined by examples/meson.build when nabla-mpi is built.
#ifdef NABLA_EXAMPLE_MPI
#include <nabla/autodiff/mpi.hpp>
using World = boost::mpi::communicator;
#else
struct World {};
#endif

namespace {

struct Options {
  int epochs = 5;
  std::size_t train = 60000, test = 10000;
  double min_accuracy = 0;
  std::size_t threads = 0;
  bool distributed = false;
  std::string data = "/usr/share/datasets/fashion-mnist";
};

constexpr const char* usage =
    "usage: fashion_mnist [--epochs E (5)] [--train N (60000)] [--test N (10000)]\n"
    "                     [--min-accuracy A (0)] [--data DIR] [--threads T (0)] [--distributed]\n";

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (key == "--help" || key == "-h") {
      fmt::print("{}", usage);
      std::exit(0);
    }
    if (key == "--distributed") {
      o.distributed = true;
      continue;
    }
    if (i + 1 == argc) throw std::invalid_argument("option " + key + " needs a value");
    const std::string value = argv[++i];
    if (key == "--epochs")
      o.epochs = std::stoi(value);
    else if (key == "--train")
      o.train = std::stoul(value);
    else if (key == "--test")
      o.test = std::stoul(value);
    else if (key == "--min-accuracy")
      o.min_accuracy = std::stod(value);
    else if (key == "--data")
      o.data = value;
    else if (key == "--threads")
      o.threads = std::stoul(value);
    else
      throw std::invalid_argument("unknown option " + key);
  }
  return o;
}

// Images [n, 28, 28] of bytes → [n, 784] standardised with the training set's mean and spread.
nabla::Tensor prepare(const nabla::Tensor& images, std::size_t n, double mean, double sd) {
  n = std::min(n, images.shape()[0]);
  nabla::Tensor x({n, 784});
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = (images[i] / 255.0 - mean) / sd;
  return x;
}

struct Model {
  nabla::nn::Parameters params{/*seed=*/1};
  nabla::nn::Parameter w1 = params.add("W1", {784, 512}, nabla::nn::Init::he_uniform);
  nabla::nn::Parameter b1 = params.add("b1", {512}, nabla::nn::Init::zeros);
  nabla::nn::Parameter w2 = params.add("W2", {512, 10}, nabla::nn::Init::glorot_uniform);
  nabla::nn::Parameter b2 = params.add("b2", {10}, nabla::nn::Init::zeros);

  nabla::TensorVar logits(const nabla::TensorVar& x) const {
    return nabla::matmul(nabla::relu(nabla::matmul(x, w1) + b1), w2) + b2;
  }
};

double accuracy(const Model& model, const nabla::Tensor& x, const std::vector<int>& labels) {
  nabla::Tape& tape = nabla::Tape::active();
  std::size_t correct = 0;
  std::vector<std::size_t> rows;
  for (std::size_t begin = 0; begin < x.shape()[0]; begin += 1000) {
    const nabla::Position start = tape.position();
    rows.clear();
    for (std::size_t i = begin; i < std::min(begin + 1000, x.shape()[0]); ++i) rows.push_back(i);
    const nabla::TensorView out = model.logits(nabla::constant_rows(x, rows)).value();
    for (std::size_t r = 0; r < rows.size(); ++r) {
      std::size_t best = 0;
      for (std::size_t c = 1; c < 10; ++c) best = out(r, c) > out(r, best) ? c : best;
      correct += static_cast<int>(best) == labels[rows[r]];
    }
    tape.rewind(start);
  }
  return static_cast<double>(correct) / static_cast<double>(x.shape()[0]);
}

void write_curves(const std::vector<double>& loss, const std::vector<double>& acc) {
  std::FILE* csv = std::fopen("fashion_mnist.csv", "w");
  if (csv == nullptr) throw std::runtime_error("cannot write fashion_mnist.csv");
  fmt::print(csv, "epoch,train_loss,test_accuracy\n");
  for (std::size_t e = 0; e < loss.size(); ++e)
    fmt::print(csv, "{},{:.6f},{:.4f}\n", e + 1, loss[e], acc[e]);
  std::fclose(csv);
  // Two panels: mean training loss and test accuracy per epoch.
  std::vector<double> epochs, percent;
  for (std::size_t e = 0; e < loss.size(); ++e) {
    epochs.push_back(static_cast<double>(e + 1));
    percent.push_back(100 * acc[e]);
  }
  const chart::Chart loss_chart{
      .title = "training loss",
      .x = {.label = "epoch"},
      .y = {.label = "mean cross-entropy per image (nats)"},
      .series = {{.name = "training loss", .x = epochs, .y = loss, .markers = true}}};
  const chart::Chart accuracy_chart{.title = "test accuracy",
                                    .x = {.label = "epoch"},
                                    .y = {.label = "test accuracy (% of images)"},
                                    .series = {{.name = "test accuracy",
                                                .x = epochs,
                                                .y = percent,
                                                .color = "#d55e00",
                                                .markers = true}}};
  chart::write("fashion_mnist.svg", chart::svg({loss_chart, accuracy_chart}));
}

// Trains and tests; `world` is the MPI job's ranks with --distributed, else null.
int train(const Options& o, const World* world) {
  bool root = true;  // the rank that prints and writes files
#ifdef NABLA_EXAMPLE_MPI
  if (world != nullptr) root = nabla::mpi::is_root(*world);
#endif
  const nabla::Tensor train_images = nabla::data::read_idx(o.data + "/train-images-idx3-ubyte.gz");
  const std::vector<int> train_labels =
      nabla::data::read_idx_labels(o.data + "/train-labels-idx1-ubyte.gz");
  const nabla::Tensor test_images = nabla::data::read_idx(o.data + "/t10k-images-idx3-ubyte.gz");
  const std::vector<int> test_labels =
      nabla::data::read_idx_labels(o.data + "/t10k-labels-idx1-ubyte.gz");
  double mean = 0, square = 0;
  for (std::size_t i = 0; i < train_images.size(); ++i) {
    const double v = train_images[i] / 255.0;
    mean += v;
    square += v * v;
  }
  mean /= static_cast<double>(train_images.size());
  const double sd = std::sqrt(square / static_cast<double>(train_images.size()) - mean * mean);
  const nabla::Tensor x_train = prepare(train_images, o.train, mean, sd);
  const nabla::Tensor x_test = prepare(test_images, o.test, mean, sd);
  std::string mode;
  if (world != nullptr) {
#ifdef NABLA_EXAMPLE_MPI
    mode = fmt::format(" (distributed: 4 shards of 32 on {} ranks of {} thread{})", world->size(),
                       std::max<std::size_t>(o.threads, 1), o.threads > 1 ? "s" : "");
#endif
  } else if (o.threads > 0) {
    mode = fmt::format(" (data-parallel: 4 shards of 32 on {} threads)", o.threads);
  }
  if (root) {
    fmt::print(
        "Fashion-MNIST: {} training and {} test images, 784-512-10 MLP, Adam, batches of 128{}\n",
        x_train.shape()[0], x_test.shape()[0], mode);
  }

  Model model;
  nabla::nn::BatchSampler batches(x_train.shape()[0], 128, /*seed=*/7);
  // Adam with the learning rate annealed on a cosine from 1e-3 towards 0 over the whole run.
  const long steps = static_cast<long>(batches.count()) * o.epochs;
  auto adam = nabla::optim::make_optimizer(
      nabla::optim::Adam{.lr = 1e-3,
                         .extras = {.schedule = nabla::optim::CosineAnnealing{.t_max = steps}}},
      model.params.size());
  nabla::Tape tape;
  nabla::Tape::Scope scope(tape);
  // Data-parallel: a pool of o.threads threads, each batch's gradient summed over its shards.
  std::unique_ptr<nabla::ThreadPool> pool;
  std::unique_ptr<nabla::nn::DataParallel> parallel;
  if (o.threads > 0 && world == nullptr) {
    pool = std::make_unique<nabla::ThreadPool>(o.threads);
    parallel = std::make_unique<nabla::nn::DataParallel>(model.params, *pool);
  }
  // Distributed: the same shards dealt to the ranks, rank 0's initial parameters on every rank.
#ifdef NABLA_EXAMPLE_MPI
  std::unique_ptr<nabla::mpi::DataParallel> distributed;
  if (world != nullptr) {
    pool = std::make_unique<nabla::ThreadPool>(std::max<std::size_t>(o.threads, 1));
    distributed = std::make_unique<nabla::mpi::DataParallel>(model.params, *world, *pool);
  }
#endif
  const bool terminal = root && isatty(fileno(stdout)) != 0;
  std::vector<int> labels;
  std::vector<double> losses, accuracies;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    const auto started = std::chrono::steady_clock::now();
    batches.shuffle();
    double total = 0;
    for (std::size_t k = 0; k < batches.count(); ++k) {
      const auto rows = batches[k];
      labels.clear();
      for (std::size_t r : rows) labels.push_back(train_labels[r]);
      // Each shard's mean cross-entropy weighted by its share of the batch: the shards' terms
      // add up to the batch's mean.
      const double batch = static_cast<double>(rows.size());
      const auto shard_loss = [&](nabla::Shard s) {
        const std::span<const int> shard_labels(labels.data() + s.begin, s.size());
        return nabla::cross_entropy(
                   model.logits(nabla::constant_rows(x_train, rows.subspan(s.begin, s.size()))),
                   shard_labels) *
               (static_cast<double>(s.size()) / batch);
      };
#ifdef NABLA_EXAMPLE_MPI
      if (distributed) {
        total += distributed->compute_gradients(nabla::Shards(rows.size(), 32), shard_loss);
      } else
#endif
          if (parallel) {
        total += parallel->compute_gradients(nabla::Shards(rows.size(), 32), shard_loss);
      } else {
        const nabla::Position start = tape.position();
        model.params.zero_grad();
        const nabla::TensorVar loss =
            nabla::cross_entropy(model.logits(nabla::constant_rows(x_train, rows)), labels);
        nabla::backward(loss);
        total += loss.value()[0];
        tape.rewind(start);
      }
      adam->step(model.params.values(), model.params.gradients());
      if (terminal && (k % 20 == 0 || k + 1 == batches.count())) {
        const std::size_t done = 30 * (k + 1) / batches.count();
        fmt::print("\repoch {} [{:<30}] {:3}%  loss {:.4f}", epoch, std::string(done, '#'),
                   100 * (k + 1) / batches.count(), total / static_cast<double>(k + 1));
        std::fflush(stdout);
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    losses.push_back(total / static_cast<double>(batches.count()));
    accuracies.push_back(accuracy(model, x_test, test_labels));
    if (root) {
      fmt::print("{}epoch {}: training loss {:.4f}, test accuracy {:.2f}% ({:.1f} s)\n",
                 terminal ? "\r" : "", epoch, losses.back(), 100 * accuracies.back(), seconds);
    }
  }
  if (accuracies.back() < o.min_accuracy) {
    if (root) {
      fmt::print(stderr, "test accuracy {:.2f}% is below the required {:.2f}%\n",
                 100 * accuracies.back(), 100 * o.min_accuracy);
    }
    return 1;
  }
  if (!root) return 0;  // the other ranks hold the same parameters: rank 0 writes them
  write_curves(losses, accuracies);
  // The trained parameters as NumPy arrays W1, b1, W2, b2; a fresh model loads them back.
  nabla::nn::save(model.params, "fashion_mnist.npz");
  Model reloaded;
  nabla::nn::load(reloaded.params, "fashion_mnist.npz");
  const double reloaded_accuracy = accuracy(reloaded, x_test, test_labels);
  fmt::print(
      "tape after training: {}\nwrote fashion_mnist.csv, fashion_mnist.svg and fashion_mnist.npz "
      "(reloaded: test accuracy {:.2f}%)\n",
      tape.statistics(), 100 * reloaded_accuracy);
  if (reloaded_accuracy != accuracies.back()) {
    fmt::print(stderr, "the reloaded parameters give another test accuracy\n");
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {  // an unknown option, a missing or malformed value
    fmt::print(stderr, "fashion_mnist: {}\n{}", e.what(), usage);
    return 2;
  }
  if (!o.distributed) return train(o, nullptr);
#ifdef NABLA_EXAMPLE_MPI
  return nabla::mpi::run(argc, argv, [&](const World& world) { return train(o, &world); });
#else
  fmt::print(stderr, "--distributed: this build has no MPI (nabla-mpi was not built)\n");
  return 1;
#endif
}
