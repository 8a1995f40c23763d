import { Fragment } from 'react';

/**
 * A file's path (`archive.zip/chest_xray/test/NORMAL/IM-0001-0001.jpeg`) that may wrap after each `/`: in a narrow
 * table column it breaks between folders before it breaks inside a name. The text stays the path (no added characters).
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
