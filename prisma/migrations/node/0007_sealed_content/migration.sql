-- Content columns (message subjects, bodies and content, request titles and content, signed status
-- updates, meeting states, network rosters, override reasons) are sealed under the node's database
-- key (client/store/sealed-columns.ts). A row here says the columns were sealed in version
-- `version`: a database without one holds them in clear and is sealed in place on its next opening,
-- in one transaction. `keyCheck` is a known text sealed under the key, so that opening with another
-- key is refused at once rather than on the first read.
CREATE TABLE "ContentSeal" (
    "version" INTEGER NOT NULL PRIMARY KEY,
    "keyCheck" TEXT NOT NULL,
    "sealedAt" DATETIME NOT NULL
);
