/** A striped table of rows with a header, scrolling sideways (mouse or keyboard) on narrow screens. */
import { Table } from '@mantine/core';
import type { ReactNode } from 'react';

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** 'ltr' for addresses, ids and hashes, which read left to right in every language. */
  dir?: 'ltr';
}

export function DataTable<T>({
  label,
  columns,
  rows,
  rowKey,
  rowTestId,
  minWidth = 500,
  testId,
}: {
  label: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  rowTestId?: string;
  minWidth?: number;
  testId?: string;
}) {
  return (
    // The scrolling region takes the focus, so that a keyboard can scroll a table wider than the page.
    <Table.ScrollContainer
      minWidth={minWidth}
      scrollAreaProps={{ viewportProps: { tabIndex: 0, role: 'region', 'aria-label': label } }}
    >
      <Table striped aria-label={label} data-testid={testId}>
        <Table.Thead>
          <Table.Tr>
            {columns.map((c) => (
              <Table.Th key={c.header}>{c.header}</Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r) => (
            <Table.Tr key={rowKey(r)} data-testid={rowTestId}>
              {columns.map((c) => (
                <Table.Td key={c.header} dir={c.dir}>
                  {c.cell(r)}
                </Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
