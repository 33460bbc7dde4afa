package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/cutover/cutover/internal/cutover"
)

// memTestChunks is an in-memory TestChunks with the DynamoDB one's rules:
// planning stores every chunk over the one of its index, and a chunk that
// is done stays done until the round is planned again.
type memTestChunks struct {
	mu     sync.Mutex
	chunks map[string]map[int]cutover.Chunk // by migration id and round
}

func newMemTestChunks() *memTestChunks {
	return &memTestChunks{chunks: map[string]map[int]cutover.Chunk{}}
}

func roundKey(id string, round int) string { return fmt.Sprintf("%s#%d", id, round) }

func (c *memTestChunks) ReplanTestChunks(_ context.Context, id string, round int, cs []cutover.Chunk) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := roundKey(id, round)
	if c.chunks[k] == nil {
		c.chunks[k] = map[int]cutover.Chunk{}
	}
	for _, ch := range cs {
		c.chunks[k][ch.Index] = ch
	}
	return nil
}

func (c *memTestChunks) GetTestChunk(_ context.Context, id string, round, i int) (*cutover.Chunk, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch, ok := c.chunks[roundKey(id, round)][i]
	if !ok {
		return nil, cutover.Errorf(cutover.ENOTFOUND, "no test chunk %d", i)
	}
	return &ch, nil
}

func (c *memTestChunks) SaveTestChunk(_ context.Context, id string, round int, ch *cutover.Chunk) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := roundKey(id, round)
	if c.chunks[k][ch.Index].Status == cutover.ChunkDone {
		return cutover.Errorf(cutover.ECONFLICT, "done")
	}
	c.chunks[k][ch.Index] = *ch
	return nil
}

func (c *memTestChunks) ListTestChunks(_ context.Context, id string, round int) ([]cutover.Chunk, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := roundKey(id, round)
	var out []cutover.Chunk
	for _, i := range slices.Sorted(maps.Keys(c.chunks[k])) {
		out = append(out, c.chunks[k][i])
	}
	return out, nil
}
