package qmpd.aio;

import java.util.Arrays;

/** A binary min-heap of armed timers by (deadline, arming order), with O(log n) removal. Not thread-safe. */
final class TimerHeap {
    private AioTimer[] heap = new AioTimer[16];
    private int size;
    private long nextSeq;

    boolean isEmpty() {
        return size == 0;
    }

    AioTimer peek() {
        return size == 0 ? null : heap[0];
    }

    void add(AioTimer t, long deadlineNs) {
        if (t.heapIndex >= 0) remove(t);
        t.deadlineNs = deadlineNs;
        t.seq = nextSeq++;
        if (size == heap.length) heap = Arrays.copyOf(heap, size * 2);
        heap[size] = t;
        t.heapIndex = size;
        siftUp(size++);
    }

    void remove(AioTimer t) {
        int i = t.heapIndex;
        if (i < 0) return;
        t.heapIndex = -1;
        AioTimer last = heap[--size];
        heap[size] = null;
        if (i == size) return;
        heap[i] = last;
        last.heapIndex = i;
        siftDown(i);
        siftUp(last.heapIndex);
    }

    void clear() {
        for (int i = 0; i < size; i++) {
            heap[i].heapIndex = -1;
            heap[i] = null;
        }
        size = 0;
    }

    private static boolean less(AioTimer a, AioTimer b) {
        long d = a.deadlineNs - b.deadlineNs;   // nanoTime may wrap: compare by difference
        return d < 0 || (d == 0 && a.seq < b.seq);
    }

    private void siftUp(int i) {
        AioTimer t = heap[i];
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (!less(t, heap[p])) break;
            heap[i] = heap[p];
            heap[i].heapIndex = i;
            i = p;
        }
        heap[i] = t;
        t.heapIndex = i;
    }

    private void siftDown(int i) {
        AioTimer t = heap[i];
        for (;;) {
            int c = 2 * i + 1;
            if (c >= size) break;
            if (c + 1 < size && less(heap[c + 1], heap[c])) c++;
            if (!less(heap[c], t)) break;
            heap[i] = heap[c];
            heap[i].heapIndex = i;
            i = c;
        }
        heap[i] = t;
        t.heapIndex = i;
    }
}
