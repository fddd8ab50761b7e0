package qmpd.aio;

/** A link of {@link BhQueue}: a BottomHalf, the queue's stub, or a poll level's end marker. */
class BhNode {
    /** Written by the pushing producer (release), read by the home thread. */
    volatile BhNode next;
}
