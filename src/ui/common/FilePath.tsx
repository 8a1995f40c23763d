import { Fragment } from 'react';

/**
 * A file's path (`archive.zip/chest_xray/test/NORMAL/IM-0001-0001.jpeg`) that may wrap after each `/`: in a narrow
 * table column it breaks between folders, not inside a name, so the other columns stay in their section; where even
 * one name does not fit, its table scrolls sideways (ScrollingTable). Inside a name it breaks only where the name
 * alone would overflow its box (the page's `overflow-wrap: break-word`, page.css). The text stays the path (no added
 * characters).
 */
export function FilePath({ path }: { path: string }) {
  const parts = path.split('/');
  return (
    <>
      {parts.map((part, i) => (
        <Fragment key={i}>
          {part}
          {i < parts.length - 1 && (
            <>
              /<wbr />
            </>
          )}
        </Fragment>
      ))}
    </>
  );
}
