import IR

extension Graph {
    /// A `const` node defining a new value that holds `tensor`, its weight named after the
    /// value. The node is returned, not appended: the caller places it before its first use.
    mutating func makeConstant(name: String, tensor: Tensor, layout: Layout = .none) -> Node {
        let value = addValue(name: name, type: tensor.type(layout: layout))
        return Node(op: .const, inputs: [], outputs: [value], weight: addWeight(name: self[value].name, tensor: tensor))
    }

    /// The node reading `value` when it is its only use (not also a graph output), else nil.
    func soleUser(of value: ValueID, users: [ValueID: [Int]], useCounts: [ValueID: Int]) -> Int? {
        guard useCounts[value] == 1, let only = users[value], only.count == 1 else { return nil }
        return only[0]
    }
}
