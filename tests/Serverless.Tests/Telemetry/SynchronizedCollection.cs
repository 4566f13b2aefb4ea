using System.Collections.Concurrent;

namespace Serverless.Tests.Telemetry;

/// <summary>A collection the exporters add to from the host's threads while the test reads it.</summary>
public sealed class SynchronizedCollection<T> : ICollection<T>
{
    private readonly ConcurrentQueue<T> _items = new();
    public int Count => _items.Count;
    public bool IsReadOnly => false;
    public void Add(T item) => _items.Enqueue(item);
    public void Clear() => _items.Clear();
    public bool Contains(T item) => _items.Contains(item);
    public void CopyTo(T[] array, int arrayIndex) => _items.ToArray().CopyTo(array, arrayIndex);
    public bool Remove(T item) => throw new NotSupportedException();
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)_items.ToArray()).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    public IReadOnlyList<T> Snapshot() => _items.ToArray();
}
