// convnet show: pictures of a saved model (issue #15) — its filters as the
// book's Fig. 7-24, its confusion matrix as a heat map, the test images it
// gets wrong. Each is one PNG, written atomically after every input was read.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "cli_util.hpp"
#include "commands.hpp"
#include "convnet/convnet.hpp"

namespace convnet::cli {

namespace {

struct FiltersArgs {
  std::string model, before, after, out;
  std::size_t layer = 1;
};
struct DataArgs {
  std::string model, data = "data/mnist", out;
  std::size_t test_size = 0, limit = 20;
  int threads = 0;
};

// Refuses, before any work, an output that cannot be written or that names an input.
void check_output(const std::string& out, const std::vector<NamedPath>& inputs) {
  check_output_path("-o", out);
  check_distinct_outputs({{"-o", out, ""}}, inputs);
}

// The `layer`-th conv layer's W (1-based, counting conv layers only), channel 0.
FilterSet conv_filters(const std::string& file, std::size_t layer, const std::string& title) {
  auto net = load_model<float>(file);
  const Architecture arch = net->architecture();
  std::vector<std::string> names;  // the conv layers' W, in order: the 4-D W arrays
  for (const auto& [name, shape] : sequential_param_shapes(arch))
    if (name[0] == 'W' && shape.size() == 4) names.push_back(name);
  std::string layers;
  for (const auto& l : arch.layers) layers += std::string(layers.empty() ? "" : "-") + layer_type_name(l.type);
  if (names.empty())
    throw Error(file + ": the model has no conv layer (" + layers + "); show filters draws a conv layer's weights");
  if (layer > names.size())
    throw Error("--layer " + std::to_string(layer) + ": " + file + " has " + std::to_string(names.size()) +
                " conv layer" + (names.size() > 1 ? "s" : "") + " (" + layers +
                "); --layer counts conv layers only, from 1 to " + std::to_string(names.size()));
  const Tensor<float>& W = net->params().at(names[layer - 1]);  // (FN, C, FH, FW)
  const auto& s = W.shape();
  FilterSet f{title, s[0], s[2], s[3], {}};
  const std::size_t plane = s[2] * s[3];
  for (std::size_t i = 0; i < s[0]; ++i)  // book: filter[i, 0]
    for (std::size_t k = 0; k < plane; ++k) f.weights.push_back(W[i * s[1] * plane + k]);
  return f;
}

int run_filters(const FiltersArgs& a, const CLI::App& cmd) {
  const bool pair = cmd.count("--before") || cmd.count("--after");
  if (pair && cmd.count("--model"))
    throw Error("--model draws one model; --before and --after draw a pair: give one or the other");
  if (pair && !(cmd.count("--before") && cmd.count("--after")))
    throw Error(std::string(cmd.count("--before") ? "--before" : "--after") + " needs " +
                (cmd.count("--before") ? "--after" : "--before") + ": they draw the pair before and after training");
  if (!pair && !cmd.count("--model")) throw Error("show filters needs --model FILE, or --before FILE --after FILE");
  std::vector<NamedPath> inputs;
  if (pair)
    inputs = {{"--before", a.before, ""}, {"--after", a.after, ""}};
  else
    inputs = {{"--model", a.model, ""}};
  check_output(a.out, inputs);
  std::vector<FilterSet> sets;
  const std::string which = "conv layer " + std::to_string(a.layer);
  auto name = [](const std::string& f) { return std::filesystem::path(f).filename().string(); };  // titles stay short
  if (pair) {
    sets.push_back(conv_filters(a.before, a.layer, "before training: " + name(a.before) + ", " + which));
    sets.push_back(conv_filters(a.after, a.layer, "after training: " + name(a.after) + ", " + which));
  } else {
    sets.push_back(conv_filters(a.model, a.layer, name(a.model) + ", " + which));
  }
  draw_png(a.out, filter_picture(sets).canvas);
  return 0;
}

// The model and the test images it takes (as eval checks them).
struct Loaded {
  std::unique_ptr<Sequential<float>> net;
  Dataset test;
  std::size_t classes = 0;
};
Loaded load_for_test(const DataArgs& a) {
  set_num_threads(a.threads);
  Loaded l;
  l.net = load_model<float>(a.model);
  const Mnist mnist = load_mnist(a.data);
  if (a.test_size > mnist.test.count)
    throw Error("--test-size " + std::to_string(a.test_size) + ": " + a.data + " holds only " +
                std::to_string(mnist.test.count) + " test images");
  l.test = mnist.test.head(a.test_size);
  const Architecture arch = l.net->architecture();
  const auto& in = arch.input;
  if (in[0] != l.test.channels || in[1] != l.test.rows || in[2] != l.test.cols)
    throw Error(a.model + ": the model takes input " + shape_str({in[0], in[1], in[2]}) + " but " + a.data +
                " holds images of " + shape_str({l.test.channels, l.test.rows, l.test.cols}));
  l.classes = arch.classes();
  l.test.check_labels(l.classes);
  return l;
}

std::vector<NamedPath> data_inputs(const DataArgs& a) {
  std::vector<NamedPath> inputs{{"--model", a.model, ""}};
  for (const auto& f : mnist_files(a.data)) inputs.push_back({"--data", f, ""});
  return inputs;
}

int run_confusion(const DataArgs& a) {
  check_output(a.out, data_inputs(a));
  Loaded l = load_for_test(a);
  std::vector<std::int32_t> predicted;
  Evaluator<float>().count_correct(*l.net, l.test, &predicted);
  std::vector<std::vector<std::size_t>> confusion(l.classes, std::vector<std::size_t>(l.classes, 0));
  for (std::size_t i = 0; i < l.test.count; ++i) ++confusion[l.test.labels[i]][std::size_t(predicted[i])];
  draw_png(a.out, confusion_picture(confusion).canvas);
  return 0;
}

int run_mistakes(const DataArgs& a) {
  check_output(a.out, data_inputs(a));
  Loaded l = load_for_test(a);
  const Dataset& d = l.test;
  const std::size_t K = l.classes, per = d.channels * d.rows * d.cols;
  struct Mistake {
    std::size_t index;
    int truth, predicted;
    float p;
  };
  std::vector<Mistake> wrong;
  Tensor<float> x, prob;
  for (std::size_t b = 0; b < d.count; b += 100) {  // batches of 100, as the model's memory was checked for
    const std::size_t n = std::min<std::size_t>(100, d.count - b);
    x.resize({n, d.channels, d.rows, d.cols}, false);
    for (std::size_t j = 0; j < n * per; ++j) x[j] = float(d.images[b * per + j]) / 255.0f;
    softmax(l.net->predict(x, Mode::Eval), prob);
    for (std::size_t i = 0; i < n; ++i) {
      const float* p = prob.data() + i * K;
      const int top = int(std::max_element(p, p + K) - p);  // the first maximum, as np.argmax
      if (top != d.labels[b + i]) wrong.push_back({b + i, d.labels[b + i], top, p[top]});
    }
  }
  if (wrong.empty()) {
    std::printf("no mistakes in %zu images\n", d.count);
    return 0;
  }
  // Most confident first; ties in image order.
  std::stable_sort(wrong.begin(), wrong.end(), [](const Mistake& l, const Mistake& r) { return l.p > r.p; });
  const std::size_t shown = std::min(a.limit, wrong.size());
  std::vector<CaptionedImage> items;
  std::printf("%zu mistakes in %zu images; the %zu most confident:\nindex,true,predicted,probability\n",
              wrong.size(), d.count, shown);
  for (std::size_t k = 0; k < shown; ++k) {
    const Mistake& m = wrong[k];
    GrayImage g{d.rows, d.cols, {}};  // channel 0
    g.pixels.assign(d.images.begin() + std::ptrdiff_t(m.index * per),
                    d.images.begin() + std::ptrdiff_t(m.index * per + d.rows * d.cols));
    char caption[64];
    std::snprintf(caption, sizeof caption, "%d \u2192 %d (%.2f)", m.truth, m.predicted, double(m.p));
    items.push_back({std::move(g), caption});
    std::printf("%zu,%d,%d,%.4f\n", m.index, m.truth, m.predicted, double(m.p));
  }
  char title[128];
  std::snprintf(title, sizeof title, "%zu of %zu mistakes in %zu: true \u2192 predicted (p)", shown,
                wrong.size(), d.count);
  draw_png(a.out, image_grid(items, title).canvas);
  return 0;
}

struct ActivationArgs {
  std::string model, image, out;
};

// The picture as predict reads it, then each conv and pool layer's output for
// it: one tile per channel, min-max normalised per channel, in gray_r.
int run_activations(const ActivationArgs& a) {
  check_output(a.out, {{"--model", a.model, ""}, {"image", a.image, ""}});
  const NpzArchive npz = load_npz(a.model);
  const Architecture arch = model_architecture(npz, a.model);
  const auto& in = arch.input;
  if (in[0] != 1)
    throw Error(a.model + ": show activations reads grey pictures, but the model expects " + std::to_string(in[0]) +
                " channels");
  bool any = false;
  for (const auto& l : arch.layers) any |= l.type == LayerType::Conv || l.type == LayerType::Pool;
  if (!any) throw Error(a.model + ": the model has no conv or pool layer; show activations draws their outputs");
  const GrayImage m = to_mnist_like(read_png_gray(a.image), in[1], std::max<std::size_t>(1, in[1] * 20 / 28));
  if (m.cols != in[2])
    throw Error(a.image + ": cannot fit a " + std::to_string(in[1]) + "x" + std::to_string(in[2]) + " model input");
  // Unfused, so that every layer's own output can be seen.
  Sequential<float> net(arch, 0u, Kernels::Layered);
  load_params(npz, a.model, net);
  Tensor<float> x({1, 1, in[1], in[2]});
  for (std::size_t j = 0; j < x.size(); ++j) x[j] = float(m.pixels[j]) / 255.0f;  // as load_mnist(normalize=True)
  auto tile_scale = [](std::size_t side) {  // about 48 px a tile
    const int n = int(std::max<std::size_t>(side, 1));
    return std::max(1, (48 + n / 2) / n);
  };
  std::vector<Picture> parts;
  parts.push_back(image_grid({{m, ""}}, "input " + shape_str({in[1], in[2]}) + ": " +
                                            std::filesystem::path(a.image).filename().string(),
                             tile_scale(in[1]), 1, 0));
  const Tensor<float>* cur = &x;
  for (std::size_t i = 0; i < net.layers().size(); ++i) {
    const auto& [name, layer] = net.layers()[i];
    cur = &layer->forward(*cur, Mode::Eval);
    const LayerType t = arch.layers[i].type;
    if (t != LayerType::Conv && t != LayerType::Pool) continue;
    const auto& s = cur->shape();  // (1, C, H, W)
    std::vector<CaptionedImage> maps;
    for (std::size_t c = 0; c < s[1]; ++c)
      maps.push_back({normalised_map(cur->data() + c * s[2] * s[3], s[2], s[3]), std::to_string(c)});
    parts.push_back(image_grid(maps, name + ": " + std::to_string(s[1]) + " channels of " + shape_str({s[2], s[3]}),
                               tile_scale(std::max(s[2], s[3])), 10, 0));
  }
  draw_png(a.out, stack_pictures(parts).canvas);
  return 0;
}

void add_data_options(CLI::App* cmd, DataArgs& a) {
  cmd->add_option("--model", a.model, "Model file written by 'convnet train --save'")->required();
  cmd->add_option("--data", a.data, "Directory with the IDX files; the test set is used")->capture_default_str();
  cmd->add_option("--test-size", a.test_size, "Test images used, from the start (0 = all)")
      ->capture_default_str()->check(nonnegative_int());
  cmd->add_option("--threads", a.threads, "Threads (0 = all cores)")->check(int_range(0, 1024));
  cmd->add_option("-o,--output", a.out, "The PNG to write")->required();
}

}  // namespace

void add_show(CLI::App& app, Runner& run) {
  auto* show = app.add_subcommand("show", "Pictures of a saved model: filters, confusion, mistakes, activations");
  show->require_subcommand(1);

  auto* f = show->add_subcommand(
      "filters",
      "A conv layer's filters as grey tiles, as the book's filter_show (Fig. 7-24): channel 0 of each filter, "
      "min-max normalised per filter, in gray_r (the largest weight black), 8 a row, labelled with the index i of "
      "W[i]");
  static FiltersArgs fa;
  f->add_option("--model", fa.model, "Model file written by 'convnet train --save'");
  f->add_option("--before", fa.before, "With --after: the model before training ('convnet train --save-init')");
  f->add_option("--after", fa.after, "With --before: the model after training; the two are drawn one above the other");
  f->add_option("--layer", fa.layer, "Which conv layer: the N-th conv layer, counting conv layers only, from 1")
      ->capture_default_str()->check(positive_int());
  f->add_option("-o,--output", fa.out, "The PNG to write")->required();
  f->callback([&run, f] { run = [f] { return run_filters(fa, *f); }; });

  auto* c = show->add_subcommand(
      "confusion", "The test set's confusion matrix as a heat map: counts in the cells, per-class accuracy at the side");
  static DataArgs ca;
  add_data_options(c, ca);
  c->callback([&run] { run = [] { return run_confusion(ca); }; });

  auto* m = show->add_subcommand(
      "mistakes",
      "Test images the model gets wrong, captioned 'true -> predicted (p)', p the softmax probability of the "
      "predicted class, most confident first; also listed on stdout. None wrong: says so, writes no file");
  static DataArgs ma;
  add_data_options(m, ma);
  m->add_option("--limit", ma.limit, "At most this many images")->capture_default_str()->check(positive_int());
  m->callback([&run] { run = [] { return run_mistakes(ma); }; });

  auto* act = show->add_subcommand(
      "activations",
      "A picture (read as 'predict' reads it) and the output of each conv and pool layer for it: one tile per "
      "channel, min-max normalised per channel, in gray_r (the largest value black)");
  static ActivationArgs aa;
  act->add_option("--model", aa.model, "Model file written by 'convnet train --save'")->required();
  act->add_option("image", aa.image, "A PNG picture of a digit")->required();
  act->add_option("-o,--output", aa.out, "The PNG to write")->required();
  act->callback([&run] { run = [] { return run_activations(aa); }; });
}

}  // namespace convnet::cli
