// node: the public face of a node; the runtime behind it is node_core (src/node_core.cpp).
#include <coactor/node.hpp>
#include <coactor/thread_pool.hpp>
#include <coactor/transport.hpp>

#include <random>

namespace coactor {
namespace {

std::uint64_t random_u64() {
  std::random_device device;
  std::uint64_t value = 0;
  while (value == 0) value = (std::uint64_t{device()} << 32) ^ device();
  return value;
}

}  // namespace

node::node(node_options options) : node(nullptr, std::move(options)) {}

node::node(coactor::scheduler& s, node_options options) : node(&s, std::move(options)) {}

node::node(coactor::scheduler* s, node_options options) {
  if (s) {
    sched_ = s;
  } else {
    own_pool_ = std::make_unique<thread_pool>(options.threads);
    sched_ = own_pool_.get();
  }
  const std::uint64_t incarnation = options.incarnation ? options.incarnation : random_u64();
  detail::siphash_key key{options.pid_key[0], options.pid_key[1]};
  if (key.k0 == 0 && key.k1 == 0) key = {random_u64(), random_u64()};
  core_ = std::make_unique<detail::node_core>(*this, *sched_, std::move(options.name), incarnation, key,
                                              options.flush_timeout, own_pool_ != nullptr, options.tracer);
  if (options.transport) core_->attach_transport(std::move(options.transport), options.format, options.limits,
                                                  std::move(options.addresses));
}

node::~node() {
  if (own_pool_) own_pool_->stop();
  core_->shutdown_transport();
  if (!own_pool_)  // a shared scheduler must not step our processes any more
    sched_->forget_if([core = core_.get()](const detail::process_base& p) { return &p.node == core; });
  core_.reset();  // ends the remaining processes while the scheduler still exists
}

}  // namespace coactor
