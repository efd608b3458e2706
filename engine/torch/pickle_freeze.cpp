#include "engine/torch/pickle_machine_detail.h"

namespace segxai::pickle {
namespace detail {

// ---- turning the VM's graph into the PickleValue tree ----------------------

// Every value is charged roughly its size, so that a small pickle that refers
// to the same big object again and again cannot expand without bounds.
void Machine::charge(size_t bytes) {
    m_outputBytes += bytes;
    if (m_outputBytes > m_limits.maxOutputBytes) {
        throw CheckpointError("corrupt pickle data: the objects expand to more than " +
                              std::to_string(m_limits.maxOutputBytes >> 20) + " MiB");
    }
}

PickleValue Machine::freeze(const Node* node, size_t depth) {
    if (depth > m_limits.maxDepth) {
        throw CheckpointError("corrupt pickle data: objects nested more than " + std::to_string(m_limits.maxDepth) +
                              " levels deep (or containing themselves)");
    }
    charge(sizeof(PickleValue));
    switch (node->type) {
    case NodeType::Value:
        if (node->value.is(PickleValue::Kind::String) || node->value.is(PickleValue::Kind::Bytes)) {
            charge(node->value.is(PickleValue::Kind::String) ? node->value.asString().size()
                                                             : node->value.asBytes().size());
        }
        return node->value;
    case NodeType::List:
        return PickleValue::list(freezeAll(node->items, depth + 1));
    case NodeType::Tuple:
        return PickleValue::tuple(freezeAll(node->items, depth + 1));
    case NodeType::Dict:
        return PickleValue::dict(freezeEntries(node->entries, depth + 1));
    case NodeType::Object:
        return construct(node, depth);
    }
    return {};
}

std::vector<PickleValue> Machine::freezeAll(const std::vector<Node*>& nodes, size_t depth) {
    std::vector<PickleValue> out;
    out.reserve(nodes.size());
    for (const Node* n : nodes)
        out.push_back(freeze(n, depth));
    return out;
}

std::vector<PickleValue::Entry> Machine::freezeEntries(const std::vector<std::pair<Node*, Node*>>& entries,
                                                       size_t depth) {
    std::vector<PickleValue::Entry> out;
    out.reserve(entries.size());
    for (const auto& [k, v] : entries) {
        out.emplace_back(freeze(k, depth), freeze(v, depth));
    }
    return out;
}

// Objects reachable more than once are handed to the resolver only once.
PickleValue Machine::construct(const Node* node, size_t depth) {
    if (const auto it = m_constructed.find(node); it != m_constructed.end()) {
        charge(it->second.cost);
        return it->second.value;
    }
    const size_t before = m_outputBytes;
    Opaque object;
    object.global = node->global;
    object.called = node->called;
    object.args = freezeAll(node->args, depth + 1);
    if (node->state) object.state = freeze(node->state, depth + 1);
    object.listItems = freezeAll(node->items, depth + 1);
    object.dictItems = freezeEntries(node->entries, depth + 1);
    PickleValue value = m_resolver.construct(std::move(object));
    if (node->shared) {
        m_constructed.emplace(node, Constructed{value, m_outputBytes - before});
    }
    return value;
}

} // namespace detail

PickleValue unpickle(const uint8_t* data, size_t size, PickleResolver& resolver, const PickleLimits& limits) {
    return detail::Machine(data, size, resolver, limits).run();
}

} // namespace segxai::pickle
