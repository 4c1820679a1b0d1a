package handler

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0019).

import (
	"errors"
	"testing"

	"github.com/FerretDB/FerretDB/internal/handler/common"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/must"
)

func localDocs(ids ...string) types.DocumentsIterator {
	docs := make([]*types.Document, len(ids))
	for i, id := range ids {
		docs[i] = must.NotFail(types.NewDocument("_id", id))
	}

	return iterator.Values(iterator.ForSlice(docs))
}

func TestLocalSortedPassesOrderedDocumentsAndDropsTheSort(t *testing.T) {
	params := &common.FindParams{Sort: must.NotFail(types.NewDocument("_id", int64(1)))}
	iter, unsorted := localSorted(localDocs("a", "b", "b", "c"), params)

	if unsorted.Sort != nil || params.Sort == nil {
		t.Fatal("the sort must be dropped from a copy of the parameters only")
	}

	docs, err := iterator.ConsumeValues(iter)
	if err != nil || len(docs) != 4 {
		t.Fatalf("%d documents, %v", len(docs), err)
	}
}

func TestLocalSortedFailsOnADocumentOutOfOrder(t *testing.T) {
	params := &common.FindParams{Sort: must.NotFail(types.NewDocument("_id", int64(-1)))}
	iter, _ := localSorted(localDocs("c", "b", "d"), params)

	_, err := iterator.ConsumeValues(iter)
	if !errors.Is(err, errLocalSortOrder) {
		t.Fatalf("want the order error, got %v", err)
	}
}
