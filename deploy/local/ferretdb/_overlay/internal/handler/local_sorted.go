package handler

import (
	"errors"

	"github.com/FerretDB/FerretDB/internal/handler/common"
	"github.com/FerretDB/FerretDB/internal/types"
	"github.com/FerretDB/FerretDB/internal/util/iterator"
	"github.com/FerretDB/FerretDB/internal/util/lazyerrors"
)

// Added by the complaint pipeline's local build of FerretDB (docs/adr/0019).

// errLocalSortOrder is returned when the backend's index walk (a hinted find) yields documents
// out of the requested order: the index's JSON text ordered two values differently from how
// MongoDB orders them. The query fails instead of answering in a wrong order.
var errLocalSortOrder = errors.New("local sort pushdown: the hinted index returned documents out of order")

// localSorted returns the backend's already sorted documents, each checked against the one
// before it with the sort the handler itself would apply, and find parameters without the sort
// (so the handler neither reads every match nor sorts them again, and the limit stops the walk).
func localSorted(iter types.DocumentsIterator, params *common.FindParams) (types.DocumentsIterator, *common.FindParams) {
	unsorted := *params
	unsorted.Sort = nil

	return &checkedOrder{iter: iter, sort: params.Sort}, &unsorted
}

// checkedOrder passes documents on while each sorts no earlier than the one before it.
type checkedOrder struct {
	iter types.DocumentsIterator
	sort *types.Document
	last *types.Document
}

// Next implements iterator.Interface.
func (c *checkedOrder) Next() (struct{}, *types.Document, error) {
	k, doc, err := c.iter.Next()
	if err != nil {
		return k, doc, err
	}

	if c.last != nil {
		pair := []*types.Document{c.last, doc}
		if err = common.SortDocuments(pair, c.sort); err != nil {
			return k, nil, lazyerrors.Error(err)
		}

		if pair[0] != c.last {
			return k, nil, lazyerrors.Error(errLocalSortOrder)
		}
	}

	c.last = doc

	return k, doc, nil
}

// Close implements iterator.Interface.
func (c *checkedOrder) Close() {
	c.iter.Close()
}

// check interfaces
var _ types.DocumentsIterator = (*checkedOrder)(nil)
var _ iterator.Interface[struct{}, *types.Document] = (*checkedOrder)(nil)
